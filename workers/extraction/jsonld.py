"""The page's JSON-LD article: its object, types, texts and the names of its author and publisher."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

from lxml.html import HtmlElement

from workers.extraction.declared import clean

MAX_LD_DEPTH = 32  # JSON-LD lists and @graph nesting followed, and author/publisher names looked into
ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
     "scholarlyarticle", "techarticle", "liveblogposting", "webpage"}
)


def json_ld_article(tree: HtmlElement) -> dict[str, Any]:
    """The first JSON-LD object that describes an article (or, failing that, a web page), its author and
    publisher resolved when they are references (``{"@id": ...}``) to other objects of the page's graph."""
    found: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for script in (s for s in tree.iter("script") if s.get("type") == "application/ld+json"):
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's stack: no metadata from it
            continue
        for obj in _ld_objects(data):
            if isinstance(obj.get("@id"), str) and len(obj) > 1:
                by_id.setdefault(obj["@id"], obj)
            if ld_types(obj) & ARTICLE_TYPES:
                found.append(obj)
    found.sort(key=lambda obj: "webpage" in ld_types(obj))
    if not found:
        return {}
    article = dict(found[0])
    for key in ("author", "publisher"):
        value = article.get(key)
        refs = value if isinstance(value, list) else [value]
        resolved = [by_id.get(ref["@id"], ref) if isinstance(ref, dict) and isinstance(ref.get("@id"), str)
                    and "name" not in ref else ref for ref in refs]
        article[key] = resolved if isinstance(value, list) else resolved[0]
    return article


def _ld_objects(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > MAX_LD_DEPTH:
        return
    if isinstance(data, list):
        for item in data:
            yield from _ld_objects(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        yield from _ld_objects(data.get("@graph", []), depth + 1)


def ld_types(obj: dict[str, Any]) -> set[str]:
    declared = obj.get("@type")
    listed = [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else []
    return {t.lower() for t in listed if isinstance(t, str)}


def ld_text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return clean(html.unescape(value)) if isinstance(value, str) else None


def _ld_name(value: Any, depth: int = 0) -> str | None:
    if isinstance(value, str):
        return clean(value)
    if depth > MAX_LD_DEPTH:
        return None
    if isinstance(value, dict):
        return _ld_name(value.get("name"), depth + 1)
    if isinstance(value, list):
        names = [name for name in (_ld_name(item, depth + 1) for item in value) if name]
        return ", ".join(names) or None
    return None


def ld_author(obj: dict[str, Any]) -> str | None:
    return _ld_name(obj.get("author"))


def ld_publisher(obj: dict[str, Any]) -> str | None:
    return _ld_name(obj.get("publisher"))
