"""The article's publication date: htmldate's day, with the declared time of that day in the page's zone."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from itertools import islice
from typing import Any

import lxml.etree
from dateutil import parser as date_parser
from dateutil.parser import UnknownTimezoneWarning
from dateutil.tz import gettz
from htmldate import extractors as htmldate_extractors
from htmldate import find_date
from lxml.html import HtmlElement

from workers.extraction.declared import attributes
from workers.extraction.text import fold_whitespace

#: The first declared publication date-time of the page's microdata, in one pass.
DATE_PUBLISHED_XPATH = lxml.etree.XPath(
    "//*[@itemprop='datePublished']/@*[name() = 'content' or name() = 'datetime']")
#: Languages spoken (almost) only in one time zone, and that zone: where a page's UTC time-stamps are read.
LANGUAGE_ZONES = {lang: "Europe/Berlin" for lang in ("de", "pl", "cs", "sk", "hu", "it", "nl", "da", "sv", "no",
                                                      "nb", "sl", "hr", "sr")} | {
    "fi": "Europe/Helsinki", "el": "Europe/Athens", "ro": "Europe/Bucharest", "bg": "Europe/Sofia",
    "ja": "Asia/Tokyo", "ko": "Asia/Seoul", "zh": "Asia/Shanghai", "uk": "Europe/Kyiv"}
MAX_TIME_ELEMENTS = 20
#: The languages dateparser reads on a page that declares none: the web's most used ones.
WIDESPREAD_LANGUAGES = ("en", "es", "de", "ru", "ja", "fr", "pt", "it", "tr", "pl", "nl", "zh", "fa", "vi", "id")
URL_DATE_RE = re.compile(r"/((?:19|20)\d\d)[/_-](\d{1,2})[/_-](\d{1,2})(?:/|$|[_-]\D)")


def find_published(tree: HtmlElement, base_url: str, declared: list[datetime], zone: tzinfo | None,
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


def page_zone(tree: HtmlElement, declared: list[datetime], lang: str | None) -> tzinfo | None:
    """The zone the page's readers live in: the first non-UTC offset any of its date-times carries, else the one
    zone of a language spoken in one time zone only, else unknown."""
    times = islice(attributes(tree, "time", "datetime"), MAX_TIME_ELEMENTS)
    stamps = [*declared, *(parsed for parsed in (parse_date(value, lang) for value in times) if parsed)]
    for moment in stamps:
        offset = moment.utcoffset()
        if offset:
            return moment.tzinfo
    return gettz(LANGUAGE_ZONES[lang]) if lang in LANGUAGE_ZONES else None


def parse_date(value: str | None, lang: str | None) -> datetime | None:
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
