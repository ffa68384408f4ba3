"""Decoded HTML to an lxml tree, whatever the page: declarations, broken markup, nesting deeper than libxml2 keeps."""

from __future__ import annotations

import re

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from workers.errors import NoReadableContent

#: libxml2 silently drops everything nested deeper than 256 elements; deeper tags are flattened to this depth.
MAX_DEPTH = 200
VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                       "track", "wbr"})
#: Characters XML (and so lxml) cannot hold; browsers ignore them.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
CONTROL_BYTES = bytes(range(0x20)).translate(None, b"\t\n\r")
NONCHARACTERS = ("\ufffe", "\uffff")
TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)(?:\s[^>]*)?>")


def parse_html(html: str) -> HtmlElement:
    """The page as a tree. Raises NoReadableContent for an empty or unparseable page."""
    if not html.strip():
        raise NoReadableContent("the page is empty")
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        tree = lxml.html.document_fromstring(_xml_bytes(html), parser=parser)
        if any("Excessive depth" in entry.message for entry in parser.error_log):
            flat = flatten(CONTROL_RE.sub("", html), MAX_DEPTH)
            tree = lxml.html.document_fromstring(_xml_bytes(flat), parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise NoReadableContent(f"the page is not parseable HTML: {exc}") from exc
    return tree


def _xml_bytes(html: str) -> bytes:
    """``html`` as UTF-8 bytes (lxml refuses a str that carries an XML encoding declaration) without what
    :data:`CONTROL_RE` matches: a control character is one byte of UTF-8, never part of another character, so one
    C pass over the bytes drops them (the regular expression over the text took three times as long)."""
    if NONCHARACTERS[0] in html or NONCHARACTERS[1] in html:
        html = html.replace(NONCHARACTERS[0], "").replace(NONCHARACTERS[1], "")
    return html.encode("utf-8", "replace").translate(None, CONTROL_BYTES)


def flatten(html: str, max_depth: int) -> str:
    """``html`` without the tags that open deeper than ``max_depth`` (nor their end tags); all text is kept."""
    out: list[str] = []
    stack: list[str] = []
    dropped: dict[str, int] = {}
    position = 0
    for match in TAG_RE.finditer(html):
        out.append(html[position:match.start()])
        position = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name in VOID_TAGS:
            out.append(match.group(0))
        elif not closing:
            if len(stack) >= max_depth:
                dropped[name] = dropped.get(name, 0) + 1
                continue
            stack.append(name)
            out.append(match.group(0))
        elif dropped.get(name):
            dropped[name] -= 1
        else:
            if name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name):]
            out.append(match.group(0))
    out.append(html[position:])
    return "".join(out)
