"""An element's text as a browser lays it out: blocks on their own lines, inline markup adds no space."""

from __future__ import annotations

import html
import re
import unicodedata

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
BLANK_LINES_RE = re.compile(r"\n{3,}")
#: An invisible hyphenation hint (German sites put ``&shy;`` into long words): left in, it splits or glues a word.
SOFT_HYPHEN = "\u00ad"


def fold_whitespace(text: str) -> str:
    """``text`` with every run of whitespace one space, its ends stripped."""
    return " ".join(text.split())


def reading_form(text: str) -> str:
    """``text`` as a reader sees it and a search should match it: no soft hyphens, letters composed (NFC; a page or
    a query written decomposed, "a" and a combining diaeresis, would match no composed "ä")."""
    if SOFT_HYPHEN in text:
        text = text.replace(SOFT_HYPHEN, "")
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def layout_text(root: HtmlElement) -> str:
    """``root``'s text with a line per block and a blank line around paragraphs; ``<pre>`` keeps its lines."""
    chunks: list[str] = []
    _collect(root, chunks, preformatted=False)
    text = BREAKS_RE.sub(lambda run: "\n\n" if PARAGRAPH in run[0] else "\n", "".join(chunks))
    return "\n".join(fold_whitespace(line) for line in text.strip().split("\n"))


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


#: HTML's elements (with the obsolete ones pages still use): ``<year>`` or ``<stdin>`` in a text is a placeholder,
#: ``<img src=...>`` is markup.
HTML_ELEMENTS = frozenset({
    "a", "abbr", "acronym", "address", "applet", "area", "article", "aside", "audio", "b", "base", "basefont", "bdi",
    "bdo", "big", "blink", "blockquote", "body", "br", "button", "canvas", "caption", "center", "cite", "code", "col",
    "colgroup", "data", "datalist", "dd", "del", "details", "dfn", "dialog", "dir", "div", "dl", "dt", "em", "embed",
    "fieldset", "figcaption", "figure", "font", "footer", "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5",
    "h6", "head", "header", "hgroup", "hr", "html", "i", "iframe", "img", "input", "ins", "kbd", "label", "legend",
    "li", "link", "main", "map", "mark", "marquee", "menu", "meta", "meter", "nav", "nobr", "noframes", "noscript",
    "object", "ol", "optgroup", "option", "output", "p", "param", "picture", "pre", "progress", "q", "rp", "rt", "ruby",
    "s", "samp", "script", "section", "select", "small", "source", "span", "strike", "strong", "style", "sub",
    "summary", "sup", "svg", "table", "tbody", "td", "template", "textarea", "tfoot", "th", "thead", "time", "title",
    "tr", "track", "tt", "u", "ul", "var", "video", "wbr",
})
#: Markup that reached the text as text (escaped tags shown inside ``<noscript>``, a ``<title>`` or script left
#: unclosed, comments), and entities escaped twice (``&amp;amp;``).
MARKUP_RE = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)(?=[\s/>])[^<>]*>|<!--.*?-->", re.DOTALL)
ENTITY_RE = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")


def strip_markup(text: str) -> str:
    """``text`` without the HTML tags and comments it holds as text, its entities escaped twice decoded; runs of
    empty lines fold into one."""
    if "<" not in text and "&" not in text:
        return text
    lines = (fold_whitespace(ENTITY_RE.sub(lambda m: html.unescape(m[0]), MARKUP_RE.sub(_unless_placeholder, line)))
             for line in text.split("\n"))
    return BLANK_LINES_RE.sub("\n\n", "\n".join(lines)).strip()


def is_markup(match: re.Match[str]) -> bool:
    """Whether a :data:`MARKUP_RE` match is an HTML tag or comment, not a placeholder (``<year>``, ``<stdin>``)."""
    return match[1] is None or match[1].lower() in HTML_ELEMENTS


def _unless_placeholder(match: re.Match[str]) -> str:
    return " " if is_markup(match) else match[0]
