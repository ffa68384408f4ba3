"""What a page declares, read plainly: meta tags, attributes, language tags, URLs, values with whitespace folded."""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from urllib.parse import urljoin

from lxml.html import HtmlElement

from workers.extraction.text import fold_whitespace


def meta_tags(tree: HtmlElement) -> dict[str, str]:
    tags: dict[str, str] = {}
    for element in tree.iterfind(".//meta"):
        key = element.get("property") or element.get("name") or element.get("http-equiv") or element.get("itemprop")
        content = clean(html.unescape(element.get("content") or ""))
        if key and content:
            tags.setdefault(key.strip().lower(), content)
    return tags


def attributes(tree: HtmlElement, tag: str, name: str, **required: str) -> Iterator[str]:
    """The ``name`` attribute of each ``tag`` element with one (and with the ``required`` attribute values), in page
    order; lxml's tag filter, not an XPath over every element."""
    for element in tree.iter(tag):
        value = element.get(name)
        if value is not None and all(element.get(key) == wanted for key, wanted in required.items()):
            yield value


def first_of(values: Iterable[str]) -> str | None:
    return clean(str(next(iter(values), "")))


def language_tag(value: str | None) -> str | None:
    """``de-DE``, ``de_DE`` and ``DE`` all become ``de``."""
    if not value:
        return None
    primary = value.replace("_", "-").split("-", 1)[0].strip().lower()
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


def absolute(base_url: str, href: str | None) -> str | None:
    if not href:
        return None
    url = urljoin(base_url, href)
    return url if url.startswith(("http://", "https://")) else None


def first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def clean(value: str | None) -> str | None:
    if not value:
        return None
    return fold_whitespace(value) or None
