"""Page metadata from what publishers declare: JSON-LD, OpenGraph and article meta tags, then plain HTML."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from dateutil import parser as date_parser
from htmldate import find_date
from lxml.html import HtmlElement

#: Between a headline and the site's name: hyphen, bar, dashes, colon, dots, guillemets, slash, "::".
TITLE_SEPARATOR_RE = re.compile(r"\s+[-|\u2013\u2014:\u00b7\u2022\u00bb\u203a/]\s+|\s*::\s*|\s*\|\s*")
WORD_RE = re.compile(r"\w+")
#: An <h1> is the title when this share of its words is in a declared title.
TITLE_MIN_OVERLAP = 0.6
AUTHOR_XPATH = ("//*[@itemprop='author']//*[@itemprop='name'] | //*[@rel='author'] | //*[@itemprop='author'] | "
                "//*[contains(@class, 'author') or contains(@class, 'byline')][not(*[not(self::a or self::span or "
                "self::strong or self::b)])]")
BYLINE_PREFIX_RE = re.compile(
    r"^(?:(?:eingestellt|geschrieben|verfasst|written|posted)\s+)?(?:by|von|por|par|de|door|av|od|di|autor(?:in)?|"
    r"author)\b:?\s*", re.IGNORECASE)
#: Not a person's name: digits, a domain, a company form.
NOT_A_NAME_RE = re.compile(r"\d|\w\.\w{2,}\b|\b(?:GmbH|AG|Inc|Ltd|LLC|e\.V)\b")
AUTHOR_MAX_CHARS = 60
AUTHOR_MAX_WORDS = 6
NOT_AUTHORS = frozenset({"admin", "administrator", "unknown", "anonymous", "anónimo", "anonyme", "redaktion", "editor",
                         "staff", "follow", "alle beiträge"})
ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
     "scholarlyarticle", "techarticle", "liveblogposting", "webpage"}
)


@dataclass(frozen=True)
class PageMetadata:
    title: str | None
    author: str | None
    published: str | None
    lang: str | None
    site_name: str | None
    description: str | None
    canonical_url: str | None


def read_metadata(tree: HtmlElement, base_url: str) -> PageMetadata:
    """Read metadata from ``tree`` before readability mutates it."""
    meta = _meta_tags(tree)
    article = _json_ld_article(tree)
    site_name = _first(meta.get("og:site_name"), _ld_publisher(article), meta.get("application-name"))
    declared = _first(*(_iso_date(v) for v in (
            _ld_text(article, "datePublished"), meta.get("article:published_time"), meta.get("og:published_time"),
            meta.get("date"), meta.get("pubdate"), meta.get("publishdate"), meta.get("dc.date"),
            meta.get("dc.date.issued"), meta.get("dcterms.date"),
            _attr_of(tree, "//*[@itemprop='datePublished']/@content | //*[@itemprop='datePublished']/@datetime"),
            _attr_of(tree, "//time[@datetime][1]/@datetime"),
        )))
    return PageMetadata(
        title=_title(tree, [_ld_text(article, "headline"), meta.get("og:title"), meta.get("twitter:title"),
                            _text_of(tree, "//title")]),
        author=_author(tree, article, meta, site_name),
        published=_published(tree, base_url, declared),
        lang=_language_tag(_first(tree.get("lang"), tree.get("xml:lang"), meta.get("content-language"),
                                  meta.get("og:locale"))),
        site_name=site_name,
        description=_first(meta.get("description"), meta.get("og:description"), meta.get("twitter:description"),
                           _ld_text(article, "description")),
        canonical_url=_absolute(base_url, _first(_attr_of(tree, "//link[@rel='canonical'][1]/@href"),
                                                 meta.get("og:url"))),
    )


def _title(tree: HtmlElement, declared: list[str | None]) -> str | None:
    """The visible headline (an ``<h1>``) that the declared titles name, else the longest part of the first
    declared title once the site's name is split off (``Headline | Site``)."""
    titles = [title for title in declared if title]
    headings = [text for text in (_clean(h1.text_content()) for h1 in tree.iter("h1")) if text]
    variants = {variant.lower() for title in titles for variant in (title, *_title_parts(title))}
    for heading in headings:
        if heading.lower() in variants:
            return heading
    if headings and titles:
        best = max(headings, key=lambda heading: _word_overlap(heading, titles))
        if _word_overlap(best, titles) >= TITLE_MIN_OVERLAP:
            return best
    if titles:
        return max(_title_parts(titles[0]) or [titles[0]], key=len)
    return headings[0] if headings else None


def _title_parts(title: str) -> list[str]:
    return [part for part in TITLE_SEPARATOR_RE.split(title) if part.strip()]


def _word_overlap(text: str, others: list[str]) -> float:
    words = set(WORD_RE.findall(text.lower()))
    if not words:
        return 0.0
    return max(len(words & set(WORD_RE.findall(other.lower()))) / len(words) for other in others)


def _author(tree: HtmlElement, article: dict[str, Any], meta: dict[str, str], site_name: str | None) -> str | None:
    """The first plausible person's name: declared, then the page's byline."""
    candidates = [_ld_author(article), meta.get("author"), meta.get("article:author"), meta.get("dc.creator"),
                  meta.get("parsely-author"), meta.get("sailthru.author")]
    candidates += [_clean(element.text_content()) for element in tree.xpath(AUTHOR_XPATH)]
    for candidate in candidates:
        name = _author_name(candidate, site_name)
        if name:
            return name
    return None


def _author_name(value: str | None, site_name: str | None) -> str | None:
    if not value:
        return None
    name = BYLINE_PREFIX_RE.sub("", value).strip(" ,;|")
    if (not any(c.isalpha() for c in name) or NOT_A_NAME_RE.search(name) or len(name) > AUTHOR_MAX_CHARS
            or len(name.split()) > AUTHOR_MAX_WORDS or "://" in name or "@" in name or name.lower() in NOT_AUTHORS
            or (site_name and name.lower() == site_name.lower())):
        return None
    return name


def _published(tree: HtmlElement, base_url: str, declared: str | None) -> str | None:
    """htmldate's date of first publication; the declared date-time when it falls on that day."""
    try:
        found = find_date(tree, url=base_url, original_date=True, extensive_search=False)
    except (ValueError, TypeError):
        found = None
    if not found:
        return None
    return declared if declared and declared.startswith(found) else str(found)


def _meta_tags(tree: HtmlElement) -> dict[str, str]:
    tags: dict[str, str] = {}
    for element in tree.iterfind(".//meta"):
        key = element.get("property") or element.get("name") or element.get("http-equiv") or element.get("itemprop")
        content = _clean(html.unescape(element.get("content") or ""))
        if key and content:
            tags.setdefault(key.strip().lower(), content)
    return tags


def _json_ld_article(tree: HtmlElement) -> dict[str, Any]:
    """The first JSON-LD object that describes an article (or, failing that, a web page)."""
    found: list[dict[str, Any]] = []
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        found.extend(obj for obj in _ld_objects(data) if _ld_types(obj) & ARTICLE_TYPES)
    found.sort(key=lambda obj: "webpage" in _ld_types(obj))
    return found[0] if found else {}


def _ld_objects(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _ld_objects(item)
    elif isinstance(data, dict):
        yield data
        yield from _ld_objects(data.get("@graph", []))


def _ld_types(obj: dict[str, Any]) -> set[str]:
    declared = obj.get("@type", [])
    return {t.lower() for t in ([declared] if isinstance(declared, str) else declared) if isinstance(t, str)}


def _ld_text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return _clean(html.unescape(value)) if isinstance(value, str) else None


def _ld_name(value: Any) -> str | None:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        return _ld_name(value.get("name"))
    if isinstance(value, list):
        names = [name for name in (_ld_name(item) for item in value) if name]
        return ", ".join(names) or None
    return None


def _ld_author(obj: dict[str, Any]) -> str | None:
    return _ld_name(obj.get("author"))


def _ld_publisher(obj: dict[str, Any]) -> str | None:
    return _ld_name(obj.get("publisher"))


def _text_of(tree: HtmlElement, xpath: str) -> str | None:
    found = tree.xpath(xpath)
    return _clean(found[0].text_content()) if found else None


def _attr_of(tree: HtmlElement, xpath: str) -> str | None:
    found = tree.xpath(xpath)
    return _clean(str(found[0])) if found else None


def _iso_date(value: str | None) -> str | None:
    """ISO 8601 form of a declared date; a date without a zone is taken as UTC."""
    if not value:
        return None
    try:
        parsed = date_parser.isoparse(value)
    except ValueError:
        try:
            parsed = date_parser.parse(value, fuzzy=False)
        except (ValueError, OverflowError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not datetime(1990, 1, 1, tzinfo=UTC) <= parsed <= datetime(2100, 1, 1, tzinfo=UTC):
        return None
    return str(parsed.isoformat())


def _language_tag(value: str | None) -> str | None:
    """``de-DE``, ``de_DE`` and ``DE`` all become ``de``."""
    if not value:
        return None
    primary = value.replace("_", "-").split("-", 1)[0].strip().lower()
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


def _absolute(base_url: str, href: str | None) -> str | None:
    if not href:
        return None
    absolute = urljoin(base_url, href)
    return absolute if absolute.startswith(("http://", "https://")) else None


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    return " ".join(value.split()) or None
