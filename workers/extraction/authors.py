"""The article's author: declared, else the names the page marks as the author's or writes in a byline."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from itertools import chain
from typing import Any

import lxml.etree
from lxml.html import HtmlElement

from workers.extraction.declared import clean
from workers.extraction.jsonld import ld_author
from workers.extraction.patterns import COMMENTS_RE, class_and_id
from workers.extraction.text import fold_whitespace

#: Elements marked as the author's: a name inside ``itemprop=author``, ``rel=author``, ``itemprop=author``, or an
#: ``author`` or ``byline`` class around inline text only; one pass over the page (a union of paths takes one each).
AUTHOR_XPATH = lxml.etree.XPath(
    "//*[@rel='author' or @itemprop='author' or (@itemprop='name' and ancestor::*[@itemprop='author']) or "
    "((contains(@class, 'author') or contains(@class, 'byline')) and not(*[not(self::a or self::span or "
    "self::strong or self::b or self::i or self::em or self::img or self::svg)]))]")
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


def find_author(tree: HtmlElement, article: dict[str, Any], meta: dict[str, str], site_name: str | None) -> str | None:
    """The first plausible person's name: declared, then the page's byline (not a commenter's)."""
    written_by = meta.get("twitter:data1") if WRITTEN_BY_RE.search(meta.get("twitter:label1", "")) else None
    declared = [ld_author(article), meta.get("author"), meta.get("article:author"), meta.get("dc.creator"),
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
            yield clean(element.text_content())


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
