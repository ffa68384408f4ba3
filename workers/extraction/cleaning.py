"""Boilerplate out of the tree before readability scores it: what no reader counts as the article."""

from __future__ import annotations

import re
from collections.abc import Callable

import lxml.etree
from lxml.html import HtmlElement

from workers.extraction.patterns import ARTICLE_CLASS_RE, BOILERPLATE_RE, CAPTION_RE, class_and_id
from workers.extraction.text import fold_whitespace

#: Elements that never hold article prose; ruby annotations (``<rt>``, ``<rp>``: the reading of the characters they
#: follow, furigana) are not read as part of the line.
DROP_TAGS = frozenset({"button", "select", "svg", "template", "iframe", "object", "embed", "canvas", "script", "style",
                       "link", "rt", "rp"})
#: Page furniture by its tag: asides, footers, dialogs, image captions.
FURNITURE_TAGS = frozenset({"aside", "footer", "dialog", "figcaption"})
#: Navigation, dropped like furniture by its class: unless it holds most of the page (an unclosed ``<nav>`` swallows
#: the page that follows it).
NAVIGATION_TAGS = frozenset({"nav", "menu"})
#: A longer "caption" (CAPTION_RE) is a teaser's or a video's description, the article itself on some pages.
MAX_CAPTION_CHARS = 400
#: The elements that may be hidden by their attributes (the parser drops comments and processing instructions).
HIDDEN_XPATH = lxml.etree.XPath("//*[@hidden or @aria-hidden or @style]")
HIDDEN_STYLE_RE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)", re.IGNORECASE)
#: Never dropped by their class: the page itself and the containers that announce the article.
PROTECTED_TAGS = frozenset({"html", "body", "main", "article"})
#: An element with more than this share of the page's text is not furniture, whatever its class says.
MAX_BOILERPLATE_SHARE = 0.4
#: ... nor is one whose text is mostly that of one ``<article>`` inside it.
MIN_ARTICLE_SHARE = 0.5


def clean_tree(tree: HtmlElement, title: str | None = None, *, furniture: bool = True) -> None:
    """Drop hidden elements and, with ``furniture``, navigation and page furniture from ``tree``, in place; never what
    holds the heading that reads ``title`` (a "wrap has-sidebar" around the headline is the page's layout)."""
    for noscript in tree.xpath("//body//noscript"):  # what a page shows without scripts is often its article
        noscript.drop_tag()
    lxml.etree.strip_elements(tree, *DROP_TAGS, *(FURNITURE_TAGS if furniture else ()), with_tail=False)
    for element in HIDDEN_XPATH(tree):  # in one dropped before, it goes with it whatever is decided
        if element.tag not in PROTECTED_TAGS and element.tag != "head" and _is_hidden(element):
            element.drop_tree()
    if not furniture:
        return
    body = tree.find("body")
    total = len(body.text_content()) if body is not None else 0
    layout = _headline_ancestors(tree, title)
    _walk(tree, lambda element: element not in layout and _is_boilerplate_block(element, total))


def _headline_ancestors(tree: HtmlElement, title: str | None) -> set[HtmlElement]:
    """The elements around the first ``<h1>`` or ``<h2>`` that ends with ``title`` (after a kicker, if any)."""
    if not title:
        return set()
    for heading in tree.iter("h1", "h2"):
        if fold_whitespace(heading.text_content()).endswith(title):
            return set(heading.iterancestors())
    return set()


def _walk(tree: HtmlElement, drop: Callable[[HtmlElement], bool]) -> None:
    stack = [tree]
    while stack:
        element = stack.pop()
        if element.tag not in PROTECTED_TAGS and element.tag != "head" and drop(element):
            element.drop_tree()
        else:
            stack.extend(element)


def _is_hidden(element: HtmlElement) -> bool:
    attributes = element.attrib
    if "hidden" in attributes or attributes.get("aria-hidden") == "true":
        return True
    return bool(HIDDEN_STYLE_RE.search(attributes.get("style", "")))


def _is_boilerplate_block(element: HtmlElement, total: int) -> bool:
    features = class_and_id(element)
    if CAPTION_RE.search(features) and len(element.text_content()) <= MAX_CAPTION_CHARS:
        return True
    is_furniture = BOILERPLATE_RE.search(features) and not ARTICLE_CLASS_RE.search(features)  # not "entry share"
    if element.tag not in NAVIGATION_TAGS and not is_furniture:
        return False
    size = len(element.text_content())
    return size <= MAX_BOILERPLATE_SHARE * total and not _wraps_article(element, size)


def _wraps_article(element: HtmlElement, size: int) -> bool:
    """Whether most of ``element`` is one article: "wrap has-sidebar" is a layout, not furniture (a teaser list
    holds several small ``<article>`` elements)."""
    return any(len(article.text_content()) >= MIN_ARTICLE_SHARE * size for article in element.iterfind(".//article"))
