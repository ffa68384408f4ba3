"""An element's text as a browser lays it out: blocks on their own lines, inline markup adds no space."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

#: Elements that start a line of their own.
LINE_TAGS = frozenset({"article", "aside", "br", "dd", "details", "div", "dt", "fieldset", "figcaption", "footer",
                       "form", "header", "hr", "legend", "li", "main", "nav", "section", "table", "tr", "caption",
                       "summary", "address", "center"})
#: Elements set apart by a blank line.
PARAGRAPH_TAGS = frozenset({"blockquote", "dl", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "ol", "p", "pre", "ul"})
#: Table cells sit side by side on their row's line.
CELL_TAGS = frozenset({"td", "th"})
#: Break marks while collecting (parse_html strips these control characters from any page's text).
LINE, PARAGRAPH = "\x00", "\x01"
WHITESPACE_RE = re.compile(r"\s+")
BREAKS_RE = re.compile(r"[\s\x00\x01]*[\x00\x01][\s\x00\x01]*")


def layout_text(root: HtmlElement) -> str:
    """``root``'s text with a line per block and a blank line around paragraphs; ``<pre>`` keeps its lines."""
    chunks: list[str] = []
    _collect(root, chunks, preformatted=False)
    text = BREAKS_RE.sub(lambda run: "\n\n" if PARAGRAPH in run[0] else "\n", "".join(chunks))
    return "\n".join(" ".join(line.split()) for line in text.strip().split("\n"))


def _collect(element: HtmlElement, chunks: list[str], *, preformatted: bool) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    preformatted = preformatted or tag == "pre"
    mark = PARAGRAPH if tag in PARAGRAPH_TAGS else LINE if tag in LINE_TAGS else " " if tag in CELL_TAGS else ""
    chunks.append(mark)
    if element.text and tag:
        chunks.append(_flow(element.text, preformatted))
    for child in element:
        _collect(child, chunks, preformatted=preformatted)
        if child.tail:
            chunks.append(_flow(child.tail, preformatted))
    chunks.append(mark)


def _flow(text: str, preformatted: bool) -> str:
    """Source line breaks are spaces, except in preformatted text (where they become line marks)."""
    return text.replace("\n", LINE) if preformatted else WHITESPACE_RE.sub(" ", text)
