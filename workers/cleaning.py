"""Boilerplate out of the tree before readability scores it: what no reader counts as the article."""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml.html import HtmlElement

from workers.article import BODY_CLASS_RE

#: Elements that never hold article prose.
DROP_TAGS = frozenset({"nav", "aside", "footer", "button", "select", "svg", "template", "dialog", "iframe",
                       "object", "embed", "canvas", "menu", "script", "style", "link"})
#: class or id words of page furniture: comment threads, share bars, cookie and newsletter prompts, teaser lists.
BOILERPLATE_RE = re.compile(
    r"(?:^|[\s_-])(?:comments?|comment-?(?:list|area|section|form|respond)|respond|disqus|replies|"
    r"share|sharing|shariff|social|socials|sociable|addthis|"
    r"cookies?|consent|gdpr|newsletter|subscribe|subscription|"
    r"related|recommended|recommendations?|more-?stories|also-?read|further-?reading|"
    r"breadcrumbs?|pagination|pager|sidebar|banner|advert|advertisement|ad|ad-?slot|sponsor|"
    r"popup|modal|overlay|toolbar|tags|tag-?list|tagcloud|categories|author-?box|about-?author|byline|"
    r"copyright|credits?|skip-?link|jump-?link|menu|navbar|navigation|nav|footer|masthead)(?:$|[\s_-])",
    re.IGNORECASE,
)
#: class words of the article itself, which win over any boilerplate word beside them.
ARTICLE_CLASS_RE = re.compile(r"(?:^|\s)(?:entry|hentry|article|post|story)(?:$|\s)|" + BODY_CLASS_RE.pattern,
                              re.IGNORECASE)
HIDDEN_STYLE_RE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)", re.IGNORECASE)
#: Never dropped by their class: the page itself and the containers that announce the article.
PROTECTED_TAGS = frozenset({"html", "body", "main", "article"})
#: An element with more than this share of the page's text is not furniture, whatever its class says.
MAX_BOILERPLATE_SHARE = 0.4


def clean_tree(tree: HtmlElement) -> None:
    """Drop hidden elements, navigation and page furniture from ``tree``, in place."""
    for noscript in tree.xpath("//body//noscript"):  # what a page shows without scripts is often its article
        noscript.drop_tag()
    _walk(tree, _is_hidden_or_furniture)
    body = tree.find("body")
    total = len(body.text_content()) if body is not None else 0
    _walk(tree, lambda element: _is_boilerplate_block(element, total))


def _walk(tree: HtmlElement, drop: Callable[[HtmlElement], bool]) -> None:
    stack = [tree]
    while stack:
        element = stack.pop()
        if element.tag not in PROTECTED_TAGS and element.tag != "head" and drop(element):
            element.drop_tree()
        else:
            stack.extend(element)


def _is_hidden_or_furniture(element: HtmlElement) -> bool:
    if not isinstance(element.tag, str):
        return True  # comments and processing instructions
    if element.tag in DROP_TAGS:
        return True
    attributes = element.attrib
    if "hidden" in attributes or attributes.get("aria-hidden") == "true":
        return True
    return bool(HIDDEN_STYLE_RE.search(attributes.get("style", "")))


def _is_boilerplate_block(element: HtmlElement, total: int) -> bool:
    features = f"{element.get('class', '')} {element.get('id', '')}"
    if ARTICLE_CLASS_RE.search(features):  # "entry share", "post has-sidebar": the article, marked as shareable
        return False
    return bool(BOILERPLATE_RE.search(features)) and len(element.text_content()) <= MAX_BOILERPLATE_SHARE * total
