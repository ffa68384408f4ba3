"""Page metadata from what publishers declare: JSON-LD, OpenGraph and article meta tags, then plain HTML."""

from __future__ import annotations

import html
import json
import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from itertools import chain, islice
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
from dateutil import parser as date_parser
from dateutil.parser import UnknownTimezoneWarning
from dateutil.tz import gettz
from htmldate import extractors as htmldate_extractors
from htmldate import find_date
from lxml.html import HtmlElement

from workers.extraction.patterns import COMMENTS_RE, SITE_HEADING_RE, class_and_id
from workers.extraction.text import fold_whitespace

#: Between a headline and the site's name: hyphen, bar, dashes, colon, dots, guillemets, slash, "::".
TITLE_SEPARATOR_RE = re.compile(r"\s+[-|\u2013\u2014:\u00b7\u2022\u00bb\u203a/]\s+|\s*::\s*|\s*\|\s*")
WORD_RE = re.compile(r"\w+")
#: Typographic dashes, quotes and spaces, made plain to compare a heading with a declared title.
TYPOGRAPHY = str.maketrans({**dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
                            **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033", '"'),
                            **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4`", "'"), "\u00a0": " "})
#: Emphasis inside a headline, never a kicker before it; a kicker in a block of its own may precede bare text.
INLINE_TAGS = frozenset({"a", "b", "strong", "i", "em", "u", "mark", "abbr", "sup", "sub", "br"})
BLOCK_TAGS = frozenset({"div", "p", "header"})
#: An <h1> is the title when this share of its words is in a declared title.
TITLE_MIN_OVERLAP = 0.6
#: A declared title that ends a heading is the headline after a kicker when it has this many words.
MIN_KICKED_WORDS = 3
#: Elements marked as the author's: a name inside ``itemprop=author``, ``rel=author``, ``itemprop=author``, or an
#: ``author`` or ``byline`` class around inline text only; one pass over the page (a union of paths takes one each).
AUTHOR_XPATH = lxml.etree.XPath(
    "//*[@rel='author' or @itemprop='author' or (@itemprop='name' and ancestor::*[@itemprop='author']) or "
    "((contains(@class, 'author') or contains(@class, 'byline')) and not(*[not(self::a or self::span or "
    "self::strong or self::b or self::i or self::em or self::img or self::svg)]))]")
#: The first declared publication date-time of the page's microdata, in one pass.
DATE_PUBLISHED_XPATH = lxml.etree.XPath(
    "//*[@itemprop='datePublished']/@*[name() = 'content' or name() = 'datetime']")
#: What precedes a name in a byline: "Posted by", "Veröffentlicht von", "Auteur :", "About" (the author box).
BYLINE_PREFIX_RE = re.compile(
    r"^[\s~\-\u2013\u2014|•·]*(?:(?:eingestellt|geschrieben|verfasst|written|posted|published|publié|publiziert|"
    r"veröffentlicht|erstellt|created|post author|blog ?beitrag|beitrag|artikel|article|alles|recipe)\s+)?"
    r"(?:by|von|vom|por|par|de|door|av|od|di|autor(?:in)?|author|auteur|über|about)\b\s*:?\s*", re.IGNORECASE)
#: A label glued to the name by the page's layout: "AuthorAndreas Kalt".
GLUED_LABEL_RE = re.compile(r"^(?:(?:Veröffentlicht|Geschrieben|Verfasst|Posted|Written) )?"
                            r"(?:Autor(?:in)?|Author|Auteur|[Vv]on|[Bb]y)(?=[A-ZÀ-Þ])")
#: A credit after the name: ", dpa", ", CNN" (one word after the last comma).
CREDIT_SUFFIX_RE = re.compile(r",\s*\S+$|\s+[-\u2013|]+$")
#: Not a person's name: a date or number, a domain, a company form, a label ("Posted on", "Peter says:").
NOT_A_NAME_RE = re.compile(
    r"(?:^|\s)[\d./:-]*\d[\d./:-]*(?:\s|$)|\w\.\w{2,}\b|\b(?:GmbH|AG|Inc|Ltd|LLC|e\.V)\b|:$|"
    r"\b(?:sagt|says|schreibt|wrote|antwortete|replied)\b|^(?:posted|published|veröffentlicht|publiziert|erstellt|"
    r"geschrieben)(?:\s+(?:on|am|in))?$|\b(?:enter your name|your name|ihr name)\b", re.IGNORECASE)
#: A short line that is a byline: "Posted by Ann Lee | 3 May", "Von Ann Lee, dpa", "par Ann Lee, 21 juin 2018".
BYLINE_LINE_RE = re.compile(
    r"^(?:(?:posted|written|published|geschrieben|verfasst|veröffentlicht|erstellt|publié|écrit|escrito)\s+"
    r"(?:(?:on|in|am|le|el)\s+)?(?:[^|]{1,40}?\s+)?)?"
    r"(?:(?:by|von|par|por|door|av|od|di)\s*:?\s+|(?-i:By|Von)(?=[A-ZÀ-Þ]))(?P<name>\S.*)$", re.IGNORECASE)
#: Where a byline's name ends: a separator, a date or time, "on 3 May", "am 3. Mai".
NAME_END_RE = re.compile(r"\s*[|\u00b7\u2022\u2014\u2013@]|\s+-\s|,?\s+(?:on|am|le|el|il|at|um|in)\s|,?\s+\d|"
                         r",?\s+(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|Montag|Dienstag|Mittwoch|Donnerstag|"
                         r"Freitag|Samstag|Sonntag)\b")
#: A name in a byline is capitalised words, joined by these particles ("von X bis Y" is no byline).
NAME_PARTICLES = frozenset({"de", "da", "di", "del", "della", "du", "des", "la", "le", "van", "von", "der", "den", "zu",
                            "y", "e", "et", "and", "und", "i", "og", "en"})
#: How a byline joins its last two names.
NAME_CONJUNCTIONS = ("und", "and", "et", "y", "e", "i", "&")
#: Bylines are short lines: elements with longer text are prose that happens to start with "by".
BYLINE_MAX_CHARS = 80
BYLINE_XPATH = ("//*[self::p or self::div or self::span or self::address or self::small or self::em or self::li or "
                f"self::byline][string-length(normalize-space(.)) <= {BYLINE_MAX_CHARS}]")
AUTHOR_MAX_CHARS = 60
MAX_CREDIT_CHARS = 4
AUTHOR_MAX_WORDS = 6
NOT_AUTHORS = frozenset({"admin", "administrator", "unknown", "anonymous", "anónimo", "anonyme", "editor",
                         "staff", "follow", "alle beiträge", "publisher", "auteurs", "authors", "autoren"})
WRITTEN_BY_RE = re.compile(r"written by|geschrieben von|verfasst von|autor|author|auteur|escrito por", re.IGNORECASE)
#: Languages spoken (almost) only in one time zone, and that zone: where a page's UTC time-stamps are read.
LANGUAGE_ZONES = {lang: "Europe/Berlin" for lang in ("de", "pl", "cs", "sk", "hu", "it", "nl", "da", "sv", "no",
                                                      "nb", "sl", "hr", "sr")} | {
    "fi": "Europe/Helsinki", "el": "Europe/Athens", "ro": "Europe/Bucharest", "bg": "Europe/Sofia",
    "ja": "Asia/Tokyo", "ko": "Asia/Seoul", "zh": "Asia/Shanghai", "uk": "Europe/Kyiv"}
MAX_TIME_ELEMENTS = 20
#: The languages dateparser reads on a page that declares none: the web's most used ones.
WIDESPREAD_LANGUAGES = ("en", "es", "de", "ru", "ja", "fr", "pt", "it", "tr", "pl", "nl", "zh", "fa", "vi", "id")
URL_DATE_RE = re.compile(r"/((?:19|20)\d\d)[/_-](\d{1,2})[/_-](\d{1,2})(?:/|$|[_-]\D)")
MAX_LD_DEPTH = 32  # JSON-LD lists and @graph nesting followed, and author/publisher names looked into
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
    declares_article: bool = False  # og:type "article", or a JSON-LD article type


def read_metadata(tree: HtmlElement, base_url: str) -> PageMetadata:
    """Read metadata from ``tree`` before readability mutates it."""
    meta = _meta_tags(tree)
    article = _json_ld_article(tree)
    site_name = _first(meta.get("og:site_name"), _ld_publisher(article), meta.get("application-name"))
    lang = _language_tag(_first(tree.get("lang"), tree.get("xml:lang"), meta.get("content-language"),
                                meta.get("og:locale")))
    declared = [parsed for parsed in (_parse_date(value, lang) for value in (
        _ld_text(article, "datePublished"), meta.get("article:published_time"), meta.get("og:published_time"),
        meta.get("date"), meta.get("pubdate"), meta.get("publishdate"), meta.get("dc.date"),
        meta.get("dc.date.issued"), meta.get("dcterms.date"),
        _first_of(DATE_PUBLISHED_XPATH(tree)), _first_of(_attributes(tree, "time", "datetime")),
    )) if parsed is not None]
    page_title = next((element.text_content() for element in tree.iter("title")), None)
    return PageMetadata(
        title=_title(tree, [_ld_text(article, "headline"), meta.get("og:title"), meta.get("twitter:title"),
                            _clean(page_title)], base_url, site_name),
        author=_author(tree, article, meta, site_name),
        published=_published(tree, base_url, declared, _page_zone(tree, declared, lang), lang),
        lang=lang,
        site_name=site_name,
        description=_first(meta.get("description"), meta.get("og:description"), meta.get("twitter:description"),
                           _ld_text(article, "description")),
        canonical_url=_absolute(base_url, _first(_first_of(_attributes(tree, "link", "href", rel="canonical")),
                                                 meta.get("og:url"))),
        declares_article=(meta.get("og:type", "").lower() == "article"
                          or bool(_ld_types(article) & (ARTICLE_TYPES - {"webpage"}))),
    )


def _title(tree: HtmlElement, declared: list[str | None], base_url: str, site_name: str | None) -> str | None:
    """The headline :func:`_headline` picks, without the kicker a heading leads with
    (``<h1><span class="kicker">Klimaschutz</span><span>Bohren, bis es heiß wird</span></h1>``)."""
    title = _headline(tree, declared, base_url, site_name)
    if title:
        for heading in tree.xpath("//h1 | //h2"):
            if _clean(heading.text_content()) == title:
                return _after_kicker(heading) or title
    return title


def _after_kicker(heading: HtmlElement) -> str | None:
    """The heading's text after its first piece, when that piece is an element of its own (the kicker) and more
    text follows it; separators between them (``<span class="visually-hidden">: </span>``) are dropped."""
    pieces: list[tuple[bool, str]] = [(False, heading.text or "")]
    for child in heading:
        pieces.append((True, child.text_content() if isinstance(child.tag, str) else ""))
        pieces.append((False, child.tail or ""))
    kicker = next((child for child in heading if isinstance(child.tag, str) and WORD_RE.search(child.text_content())),
                  None)
    pieces = [(is_element, text) for is_element, text in pieces if WORD_RE.search(text)]
    if len(pieces) < 2 or not pieces[0][0] or kicker is None or kicker.tag in INLINE_TAGS:
        return None
    rest = pieces[1:]
    if kicker.tag not in BLOCK_TAGS and (len(rest) > 1 or not rest[0][0]):  # a styled first word, not a kicker
        return None
    return _clean(" ".join(text for _, text in rest))


def _headline(tree: HtmlElement, declared: list[str | None], base_url: str, site_name: str | None) -> str | None:
    """The visible headline (an ``<h1>``, else an ``<h2>``) that the declared titles name, else the longest part of
    the first declared title once the site's name is split off (``Headline | Site``). A heading that names the
    site (its logo line: a link to a home page, a ``site-title`` class) is never the headline, and a kicker
    before the headline in the same heading (``<h1><span>Kicker</span> Headline</h1>``) is not part of it."""
    titles = [title for title in declared if title]
    h1s, site_headings = _headings(tree, "h1", base_url)
    sites = {_fold(name) for name in (site_name, *site_headings) if name}
    variants = {_fold(variant) for title in titles for variant in (title, *_title_parts(title))} - sites
    whole = {_fold(title) for title in titles} - sites
    h2s, _ = _headings(tree, "h2", base_url)
    for heading in (*h1s, *h2s):  # a heading that is a whole declared title, before one that is a part of one
        text = _clean(heading.text_content()) or ""
        if _fold(text) in whole:
            return text
    for heading in h1s:
        named = _named_headline(heading, variants, whole)
        if named:
            return named
    texts = [text for text in (_clean(heading.text_content()) for heading in h1s) if text]
    if texts and titles:
        best = max(texts, key=lambda text: _word_overlap(text, titles))
        if _word_overlap(best, titles) >= TITLE_MIN_OVERLAP:
            return best
    for marked in tree.xpath("//*[@itemprop='headline'][not(self::h1 or self::h2 or self::meta)]"):
        text = _clean(marked.text_content()) or ""
        if _fold(text) in whole:  # a headline in an <h3> or a <div>, marked as such
            return text
    for heading in h2s:
        named = _named_headline(heading, variants, whole)
        if named:
            return named
    if len(texts) == 1:  # the page's one headline, which its declared titles do not name
        return texts[0]
    if titles:
        parts = [part for part in _title_parts(titles[0]) if _fold(part) not in sites]
        return max(parts or [titles[0]], key=len)
    return texts[0] if texts else None


def _named_headline(heading: HtmlElement, variants: set[str], titles: set[str]) -> str | None:
    """The heading's text, or the part of it after a kicker, when a declared title (or a part of one) names it."""
    text = _clean(heading.text_content()) or ""
    if _fold(text) in variants:
        return text
    for piece in (*heading.iter(), *(node for node in heading.xpath(".//text()"))):
        piece_text = _clean(piece if isinstance(piece, str) else piece.text_content())
        if piece_text and _fold(piece_text) in variants:
            return piece_text
    for title in sorted(titles, key=len, reverse=True):
        if len(title.split()) >= MIN_KICKED_WORDS and _fold(text).endswith(title):
            return text[len(text) - len(title):]
    return None


def _headings(tree: HtmlElement, tag: str, base_url: str) -> tuple[list[HtmlElement], list[str]]:
    """The page's ``tag`` headings that may be the headline, and the texts of those that name the site."""
    headlines: list[HtmlElement] = []
    site: list[str] = []
    for heading in tree.iter(tag):
        text = _clean(heading.text_content())
        if not text:
            continue
        parent = heading.getparent()
        marked = [heading, *heading.iterdescendants()] + ([parent] if parent is not None else [])
        features = " ".join(class_and_id(e) for e in marked if isinstance(e.tag, str))
        links = [a.get("href", "") for a in heading.iter("a")]
        if parent is not None and parent.tag == "a":
            links.append(parent.get("href", ""))
        if SITE_HEADING_RE.search(features) or any(urlsplit(urljoin(base_url, link.strip())).path in ("", "/")
                                                   for link in links):
            site.append(text)
        else:
            headlines.append(heading)
    return headlines, site


def _fold(text: str) -> str:
    """``text`` lower-cased, its dashes and quotes made plain: a CMS typesets ``-`` and ``"`` in the page's
    headline (``Korsetts \u2013 Shops``) but not in its declared titles (``Korsetts - Shops``), or the other
    way round."""
    return text.lower().translate(TYPOGRAPHY)


def _title_parts(title: str) -> list[str]:
    return [part for part in TITLE_SEPARATOR_RE.split(title) if part.strip()]


def _word_overlap(text: str, others: list[str]) -> float:
    words = set(WORD_RE.findall(text.lower()))
    if not words:
        return 0.0
    return max(len(words & set(WORD_RE.findall(other.lower()))) / len(words) for other in others)


def _author(tree: HtmlElement, article: dict[str, Any], meta: dict[str, str], site_name: str | None) -> str | None:
    """The first plausible person's name: declared, then the page's byline (not a commenter's)."""
    written_by = meta.get("twitter:data1") if WRITTEN_BY_RE.search(meta.get("twitter:label1", "")) else None
    declared = [_ld_author(article), meta.get("author"), meta.get("article:author"), meta.get("dc.creator"),
                meta.get("parsely-author"), meta.get("sailthru.author"), written_by]
    for candidate in chain(declared, _marked_names(tree), _byline_names(tree)):  # the page only when none is declared
        name = _author_name(candidate, site_name)
        if name:
            return _as_written(tree, name) if ", " in name else name
    return None


def _as_written(tree: HtmlElement, names: str) -> str:
    """A list of names (``A, B``) as the page's byline writes it (``A und B``, ``A and B``), when it does."""
    *first, last = names.split(", ")
    body = tree.find("body")
    text = fold_whitespace((body if body is not None else tree).text_content())
    for conjunction in NAME_CONJUNCTIONS:
        written = f"{', '.join(first)} {conjunction} {last}"
        if written in text:
            return written
    return names


def _marked_names(tree: HtmlElement) -> Iterator[str | None]:
    """The texts of the elements marked as the author's (``itemprop=author``, ``rel=author``, an ``author`` or
    ``byline`` class), outside comment threads, in page order."""
    for element in AUTHOR_XPATH(tree):
        if not _in_comments(element):
            yield _clean(element.text_content())


def _byline_names(tree: HtmlElement) -> Iterator[str]:
    """The names in the page's short "By ..." lines, outside comment threads, in page order."""
    for element in tree.xpath(BYLINE_XPATH):
        match = BYLINE_LINE_RE.match(fold_whitespace(element.text_content()))
        name = NAME_END_RE.split(match["name"], maxsplit=1)[0] if match else ""
        words = name.replace(",", " ").split()
        if words and all(word[0].isupper() or word in NAME_PARTICLES for word in words) and not _in_comments(element):
            yield name


def _in_comments(element: HtmlElement) -> bool:
    return any(COMMENTS_RE.search(class_and_id(e)) for e in element.iterancestors())


def _author_name(value: str | None, site_name: str | None) -> str | None:
    if not value:
        return None
    value = html.unescape(value) if "&" in value else value  # "Redacci&oacute;n", escaped twice by the page
    name = BYLINE_PREFIX_RE.sub("", GLUED_LABEL_RE.sub("", value)).strip(" ,;|~*\u2022\u00b7")
    credit = name.rsplit(",", 1)[-1].strip() if "," in name else ""
    if credit and " " not in credit and (len(credit) <= MAX_CREDIT_CHARS or credit.isupper()):  # "Ann Lee, dpa"
        name = CREDIT_SUFFIX_RE.sub("", name).strip(" ,;|")
    name = CREDIT_SUFFIX_RE.sub("", name) if name.endswith(("-", "|", "\u2013")) else name
    if (not any(c.isalpha() for c in name) or NOT_A_NAME_RE.search(name) or len(name) > AUTHOR_MAX_CHARS
            or len(name.split()) > AUTHOR_MAX_WORDS or "://" in name or "@" in name or name.lower() in NOT_AUTHORS
            or (site_name and name.lower() == site_name.lower())):
        return None
    return name


def _published(tree: HtmlElement, base_url: str, declared: list[datetime], zone: tzinfo | None,
               lang: str | None) -> str | None:
    """htmldate's day of first publication, with the time of the declared date-time that falls on that day, read
    in the page's own time zone (a publisher's ``23:00Z`` is the next morning for its readers)."""
    try:
        with _unknown_zones_ignored():
            found = find_date(tree, url=base_url, original_date=True, extensive_search=False)
            if not found:  # a date in the page's text; not a bare month or year (copyright lines, archives)
                with _dateparser_in(lang):
                    found = find_date(tree, url=base_url, original_date=True, extensive_search=True)
                found = found if found and (not found.endswith("-01") or _first_written(tree, found)) else None
    except (ValueError, TypeError):
        found = None
    if not found:
        return None
    for moment in declared:
        local = moment.astimezone(zone) if zone is not None and moment.tzinfo is not None else moment
        if found in (moment.date().isoformat(), local.date().isoformat()):
            return local.isoformat()
    if found == _url_date(base_url):  # a slug dated the day before or after: the declared local time is exact
        day = date.fromisoformat(found)
        for moment in declared:
            if moment.utcoffset() and abs(moment.date() - day) == timedelta(days=1):
                return moment.isoformat()
    return str(found)


def _first_written(tree: HtmlElement, found: str) -> bool:
    """Whether the page's text writes the first of ``found``'s month with its day (``01.02.2022``, ``1. Februar
    2022``, ``February 1, 2022``), not only the month (``Februar 2022``) htmldate completes with the 1st."""
    year, month = found[:4], int(found[5:7])
    written = re.compile(rf"(?<![\d.])0?1\.\s?0?{month}\.\s?{year}\b|\b{found}\b|"
                         rf"(?<![\d.])0?1(?:st|er|\.)?\s+[^\W\d]{{3,}}\.?,?\s+{year}\b|"
                         rf"\b[^\W\d]{{3,}}\.?\s+0?1(?:st)?,\s+{year}\b")
    body = tree.find("body")
    return bool(written.search(fold_whitespace(" ".join((body if body is not None else tree).itertext()))))


def _url_date(url: str) -> str | None:
    match = URL_DATE_RE.search(url)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return None


def _page_zone(tree: HtmlElement, declared: list[datetime], lang: str | None) -> tzinfo | None:
    """The zone the page's readers live in: the first non-UTC offset any of its date-times carries, else the one
    zone of a language spoken in one time zone only, else unknown."""
    times = islice(_attributes(tree, "time", "datetime"), MAX_TIME_ELEMENTS)
    stamps = [*declared, *(parsed for parsed in (_parse_date(value, lang) for value in times) if parsed)]
    for moment in stamps:
        offset = moment.utcoffset()
        if offset:
            return moment.tzinfo
    return gettz(LANGUAGE_ZONES[lang]) if lang in LANGUAGE_ZONES else None


def _meta_tags(tree: HtmlElement) -> dict[str, str]:
    tags: dict[str, str] = {}
    for element in tree.iterfind(".//meta"):
        key = element.get("property") or element.get("name") or element.get("http-equiv") or element.get("itemprop")
        content = _clean(html.unescape(element.get("content") or ""))
        if key and content:
            tags.setdefault(key.strip().lower(), content)
    return tags


def _json_ld_article(tree: HtmlElement) -> dict[str, Any]:
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
            if _ld_types(obj) & ARTICLE_TYPES:
                found.append(obj)
    found.sort(key=lambda obj: "webpage" in _ld_types(obj))
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


def _ld_types(obj: dict[str, Any]) -> set[str]:
    declared = obj.get("@type")
    listed = [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else []
    return {t.lower() for t in listed if isinstance(t, str)}


def _ld_text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return _clean(html.unescape(value)) if isinstance(value, str) else None


def _ld_name(value: Any, depth: int = 0) -> str | None:
    if isinstance(value, str):
        return _clean(value)
    if depth > MAX_LD_DEPTH:
        return None
    if isinstance(value, dict):
        return _ld_name(value.get("name"), depth + 1)
    if isinstance(value, list):
        names = [name for name in (_ld_name(item, depth + 1) for item in value) if name]
        return ", ".join(names) or None
    return None


def _ld_author(obj: dict[str, Any]) -> str | None:
    return _ld_name(obj.get("author"))


def _ld_publisher(obj: dict[str, Any]) -> str | None:
    return _ld_name(obj.get("publisher"))


def _attributes(tree: HtmlElement, tag: str, name: str, **required: str) -> Iterator[str]:
    """The ``name`` attribute of each ``tag`` element with one (and with the ``required`` attribute values), in page
    order; lxml's tag filter, not an XPath over every element."""
    for element in tree.iter(tag):
        value = element.get(name)
        if value is not None and all(element.get(key) == wanted for key, wanted in required.items()):
            yield value


def _first_of(values: Iterable[str]) -> str | None:
    return _clean(str(next(iter(values), "")))


def _parse_date(value: str | None, lang: str | None) -> datetime | None:
    """A declared date-time; day first (``01-11-2023`` is the 1st of November) unless it is written the US way
    (``11/01/2023`` on an English page). Without a zone it stays naive (its zone is unknown)."""
    if not value:
        return None
    parsed: datetime
    try:
        parsed = date_parser.isoparse(value)
    except ValueError:
        try:
            with _unknown_zones_ignored():
                parsed = date_parser.parse(value, fuzzy=False, dayfirst=not ("/" in value and lang == "en"))
        except (ValueError, OverflowError):
            return None
    floor, ceiling = datetime(1990, 1, 1), datetime(2100, 1, 1)
    if not floor <= parsed.replace(tzinfo=None) <= ceiling:
        return None
    return parsed


@contextmanager
def _dateparser_in(lang: str | None) -> Iterator[None]:
    """htmldate's extensive search with its last resort, dateparser, reading only the page's declared language and
    English, or the web's most used languages when it declares none: by default dateparser tries each of its 200
    locales on every candidate string (about 250 ms a page, 40 % of the metadata's CPU; 1.5 s for the first page).
    htmldate (pinned at 1.11.0) has no option for this: its parser factory is swapped while the search runs."""
    external_parser = htmldate_extractors.get_external_parser
    parser = _date_parser(tuple(dict.fromkeys([lang, "en"])) if lang else WIDESPREAD_LANGUAGES)
    htmldate_extractors.get_external_parser = lambda: parser  # type: ignore[assignment]
    try:
        yield
    finally:
        htmldate_extractors.get_external_parser = external_parser


@cache
def _date_parser(languages: tuple[str, ...]) -> Any:
    from dateparser import DateDataParser

    settings = {"NORMALIZE": True, "PARSERS": ["custom-formats", "absolute-time"], "PREFER_DATES_FROM": "past",
                "PREFER_LOCALE_DATE_ORDER": True, "RETURN_AS_TIMEZONE_AWARE": False, "STRICT_PARSING": True}
    try:
        return DateDataParser(languages=list(languages), settings=settings)
    except ValueError:  # a language dateparser does not know
        return DateDataParser(languages=["en"], settings=settings)


@contextmanager
def _unknown_zones_ignored() -> Iterator[None]:
    """dateutil warns on every zone name it does not know (``EDT``, ``MESZ``): the date is read without its zone,
    which is what readq wants; the warning would only reach the worker's stderr, once per page."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownTimezoneWarning)
        yield


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
    return fold_whitespace(value) or None
