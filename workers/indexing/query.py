"""The search request readq sends and how its answer reads: pure functions, no Elasticsearch client here.

A query is simple-query-string syntax (``"exact phrase"``, ``+must``, ``-must_not``, ``prefix*``, ``a | b``) plus
``title:``, ``author:``, ``site:`` and ``lang:`` terms (a word or a quoted phrase, ``-`` to exclude; ``site:`` and
``lang:`` filter on the host and the document's language), which :func:`parse_query` takes out of the free text.
Signed and field terms apply to the whole query (inside parentheses they are refused) and may end in the free text's
operators (``title:Häus*``, ``+Hause~1``, ``-"a phrase"~3``), which mean there what they mean in the free text.
The free text searches the language-neutral fields and the language fields of the query's languages, title above
description above body, with a boost for documents where the words stand close together (a phrase with slop).
Near-duplicates collapse into one hit on ``duplicate_group``; highlights come from whichever field matched.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from workers.errors import ReadqError
from workers.extraction.declared import language_tag
from workers.extraction.languages import (
    ANALYSED_FIELDS,
    COMPOUND_LANGUAGES,
    LANGUAGES,
    compound_parts_analyzer,
    language_field,
)
from workers.extraction.text import fold_whitespace, reading_form
from workers.urls import domain_of

FIELD_BOOSTS = {"title": 3.0, "description": 2.0, "text": 1.0}
PHRASE_SLOP = 3
PHRASE_BOOST = 2.0
# The proximity phrase takes the query's first words only: noida-db's sloppy phrase matching grows so fast with
# the number of words that a 9-word phrase against a page repeating them ran for minutes, holding the server (a
# search is not cancelled when its client gives up); 7 words answered in half a second (benchmarks/README.md).
PHRASE_MAX_WORDS = 6
# The parts clause adds to the words clause (a word is among its own parts), so a page that shares whole words
# still ranks above one that shares parts only; of 0.3, 0.6, 1.0 and 2.0, 1.0 ranked German pages best
# (benchmarks/README.md).
COMPOUND_PARTS_BOOST = 1.0
SNIPPET_CHARS = 180
# noida-db's simple-query-string parsing slows down with the query's words: 100 excluded words took 2 s, 400 took
# 21 s (400 joined by "|", 10 s), and 1,500 crashed it (stack overflow); Google stops at 32 words.
MAX_QUERY_WORDS = 64
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's index.max_result_window: a page past it is a 400
HIGHLIGHT_TAGS = ("**", "**")
SNIPPET_ORDER = ("text", "description", "title")  # the body's match tells most, then the summary, then the title
SOURCE_EXCLUDES = ["text", "minhash", "minhash_bands", "i18n"]
FIELD_PREFIXES = ("title", "author", "site", "lang")
FILTER_PREFIXES = ("site", "lang")
# A field or signed term starts a word: at the start, after a space, or after "(" or "|" (which simple-query-string
# reads as operators, so "Haus|-Garten" negates as "Haus | -Garten" does).
_STARTS_WORD = r"(?:(?<=[\s(|])|^)"
_QUOTED = r'"[^"]*"(?:~\d*)?'  # a phrase and its slop
_FIELD = rf"{_STARTS_WORD}(?P<sign>[+-]?)(?P<field>{'|'.join(FIELD_PREFIXES)}):"
FIELD_TERM = re.compile(_FIELD + rf'(?P<value>{_QUOTED}|[^\s"|]+)', re.IGNORECASE)
FIELD_PREFIX = re.compile(_FIELD, re.IGNORECASE)  # one left without a value
# +word, -"a phrase" in the free text; "(" after a sign is caught to be refused
SIGNED = re.compile(rf'{_STARTS_WORD}(?P<sign>[+-])(?P<value>{_QUOTED}|\(|[^\s"()|]+)')
# A dash standing apart, as in a pasted title ("Wahl 2024 - Ergebnisse"): simple-query-string negates the next word
DASH = re.compile(rf"{_STARTS_WORD}-+(?=\s|$)")
NESTING = re.compile(r'(?:"[^"]*")+|\(+|\)+')  # phrases (an unclosed quote is none), a run of parentheses
BAR_WORD = re.compile(r"\s*\|\s*(?P<word>\S*)")  # "|" and the word beyond it
QUOTED = re.compile(r'"(?P<words>[^"]*)"(?P<operator>~\d*)?')
# The simple-query-string operators a term may end in: a word's prefix (Haus*) or fuzziness (Hause~1)
OPERATED_WORD = re.compile(r"(?P<words>\w+)(?P<operator>\*|~\d*)")
# "~N" right after a word (not a phrase: that is slop) is simple-query-string's fuzziness, which Elasticsearch refuses
# past 2 edits with a 400
FUZZY = re.compile(r'(?<=[^\s"*()|+~-])~(?P<edits>\d+)')
MAX_EDITS = 2
OPERATOR_FIELDS = ("title", "author", "text")  # the analysed ones: the others hold hosts and language codes
SUBDOMAINS = "*."  # site:*.example.com: the site and its subdomains, as site:example.com
HOST_CHARACTERS = frozenset(string.ascii_lowercase + string.digits + ".-_:")  # ":" of an IPv6 address
WORD = re.compile(r"\w+")
# Simple-query-string syntax in the free text; a sign is taken with the space or operator before it, so that taking
# the syntax out ("(BTC)-Futures") leaves no sign that starts a word
OPERATOR = re.compile(r'(?:^|[\s"|()~])[+-]+|["|()~]|\*(?:\s|$)')


class SearchQueryError(ReadqError):
    """The query cannot be searched (nothing to look for, a bad date range, ...)."""


@dataclass(frozen=True)
class FieldTerm:
    field: str  # one of FIELD_PREFIXES, or "text" for a required or excluded word or phrase of the free text
    value: str  # without quotes
    phrase: bool
    exclude: bool
    operator: str = ""  # simple-query-string's "*" (prefix) or "~N" (fuzziness, a phrase's slop) after the value


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the simple-query-string part
    terms: tuple[FieldTerm, ...]

    @property
    def language_text(self) -> str:
        """The words that tell the query's language: the free text and the title terms."""
        return " ".join([self.text, *(t.value for t in self.terms if t.field == "title")]).strip()


@dataclass(frozen=True)
class SearchRequest:
    query: str
    languages: tuple[str, ...] = ()  # whose language fields to search besides the neutral ones
    size: int = 10
    offset: int = 0
    domain: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive
    collapse: bool = True
    compound_parts: bool = True  # the index has the compound languages' part analyzers (mapping >= 3)


@dataclass(frozen=True)
class SearchHit:
    url: str
    title: str | None
    score: float
    snippet: str
    domain: str | None
    lang: str | None
    published: str | None
    duplicate_of: str | None
    similar: int = 0  # near-duplicates folded into this hit
    highlights: dict[str, str] = field(default_factory=dict)  # field -> highlighted fragment

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SearchResults:
    """One page of hits, with the number of matching documents (near-duplicates counted) and the languages used."""

    hits: list[SearchHit]
    total: int
    offset: int
    languages: tuple[str, ...]

    def __iter__(self) -> Any:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, index: int) -> SearchHit:
        return self.hits[index]

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "offset": self.offset, "languages": list(self.languages),
                "hits": [hit.to_dict() for hit in self.hits]}


def _searchable(text: str) -> bool:
    """Whether ``text`` has a word to search for: a letter or digit, or a symbol such as an emoji (the standard
    tokenizer makes a token of it); search syntax and punctuation alone have none."""
    return any(char.isalnum() or unicodedata.category(char) == "So" for char in text)


def _nesting(text: str) -> list[int]:
    """Per character of ``text``: -1 inside a quoted phrase (quotes included), else how many parentheses are open."""
    levels, depth, done = [0] * len(text), 0, 0
    for mark in NESTING.finditer(text):
        start, end, kind = mark.start(), mark.end(), mark.group()[0]
        levels[done:start] = [depth] * (start - done)
        if kind == '"':
            levels[start:end] = [-1] * (end - start)
        else:  # a run of one parenthesis: no term starts inside it
            depth = depth + end - start if kind == "(" else max(0, depth - (end - start))
            levels[start:end] = [depth] * (end - start)
        done = end
    levels[done:] = [depth] * (len(text) - done)
    return levels


def _unquoted(pattern: re.Pattern[str], text: str) -> Iterable[tuple[re.Match[str], int]]:
    """The matches of ``pattern`` outside quoted phrases (search syntax inside one is words), with their depth in
    parentheses: a phrase is searched as typed, ``"Mercedes -Benz"`` excludes nothing."""
    levels = _nesting(text)
    return ((match, levels[match.start()]) for match in pattern.finditer(text) if levels[match.start()] >= 0)


def _outside_groups(match: re.Match[str], depth: int, what: str) -> None:
    if depth > 0:  # simple-query-string ORs "(Haus -Garten)"'s negation into a match of nearly every page
        raise SearchQueryError(f"{match.group().strip()} stands inside parentheses, but {what} the whole query: "
                               f"write it outside the parentheses ((Haus | Hof) -Garten title:Wahl)")


def _beside_bar(text: str, backwards: str, span: tuple[int, int]) -> bool:
    """Whether the term at ``span`` of ``text`` (``backwards``: ``text`` reversed) stands beside "|" with a word to
    search on the bar's other side (a stray bar, or one beside a signed term, offers no alternative)."""
    before, after = BAR_WORD.match(backwards, len(text) - span[0]), BAR_WORD.match(text, span[1])
    words = [*([before.group("word")[::-1]] if before else []), *([after.group("word")] if after else [])]
    return any(_searchable(word) and word[0] not in "+-" for word in words)


def _term(name: str, raw: str, exclude: bool) -> FieldTerm | None:
    """A term's value without its quotes and with its simple-query-string operator apart; None when empty."""
    quoted = QUOTED.fullmatch(raw)
    if quoted:
        value, operator, phrase = quoted.group("words").strip(), quoted.group("operator") or "", True
    elif name in OPERATOR_FIELDS and ("*" in raw or "~" in raw):
        operated = OPERATED_WORD.fullmatch(raw)
        if operated is None:  # a multi_match drops the sign, simple-query-string reads it only at a word's end
            raise SearchQueryError(f"{raw}: * ends a word to match its prefix (Haus*), ~ ends a word for fuzziness "
                                   f'(Hause~1) or a phrase for slop ("neue Regierung"~2); neither means anything '
                                   f"elsewhere")
        value, operator, phrase = operated.group("words"), operated.group("operator"), False
    else:
        value, operator, phrase = raw, "", False
    if operator and name not in OPERATOR_FIELDS:
        raise SearchQueryError(f"{name}:{raw}: {name}: takes no search operator ({operator})")
    return FieldTerm(field=name, value=value, phrase=phrase, exclude=exclude, operator=operator) if value else None


def parse_query(query: str) -> ParsedQuery:
    """Split ``title:``/``author:``/``site:``/``lang:`` terms off the free text."""
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as exc:  # undecodable bytes Python kept as surrogates: JSON cannot carry them
        raise SearchQueryError("the query is not UTF-8 text: is the terminal set to another encoding?") from exc
    query = reading_form(query)  # as pages are indexed: a query pasted from a PDF or with a soft hyphen matches
    fuzzy = next((match for match, _ in _unquoted(FUZZY, query) if int(match.group("edits")) > MAX_EDITS), None)
    if fuzzy:
        word = query[:fuzzy.start()].split()[-1]
        raise SearchQueryError(f'{word}{fuzzy.group()}: a word\'s fuzziness is 0, 1 or 2 edits (Hause~1); a phrase\'s '
                               f'slop has no such limit ("neue Regierung"~5)')
    terms = []
    taken = []
    backwards = query[::-1]
    for match, depth in _unquoted(FIELD_TERM, query):
        _outside_groups(match, depth, "title:, author:, site: and lang: apply to")
        taken.append(match.span())
        name, raw = match.group("field").lower(), match.group("value")
        if raw.startswith("("):
            raise SearchQueryError(f"{name}:{raw}: {name}: takes a word or a quoted phrase, not a group ({name}:Haus "
                                   f'{name}:Hof, {name}:"Haus Hof")')
        if _beside_bar(query, backwards, match.span()):
            raise SearchQueryError(f"{match.group().strip()} cannot be one side of | (every field term must match, "
                                   f"or with - must not): search the alternatives one at a time")
        if name in ("title", "author") and raw.strip('"').strip() and not _searchable(raw):
            raise SearchQueryError(f"{name}:{raw} has no word to search for")
        term = _term(name, raw, exclude=match.group("sign") == "-")
        if term is not None:
            terms.append(term)
    text = fold_whitespace(_cut_out(query, taken, lambda _: " "))
    left = next((match for match, _ in _unquoted(FIELD_PREFIX, text)), None)
    if left:
        name = left.group("field").lower()
        raise SearchQueryError(f'{name}: needs a word or a quoted phrase right after the colon ({name}:Haus, '
                               f'{name}:"neue Regierung")')
    # Simple-query-string ORs "-word" with the other words (elastic/elasticsearch#4707): "Wahl -Umfrage" would find
    # pages with "Umfrage" too; and its "+" is AND between two words, so a leading "+Wahl" required nothing. Such
    # words get clauses of their own; a required one stays in the free text too, to score as the other words do.
    taken = []
    for match, depth in _unquoted(SIGNED, text):
        raw = match.group("value")
        if raw == "(" or (raw[0] in "+-" and _searchable(raw)):
            raise SearchQueryError(f"{match.group()}: + and - take a word or a quoted phrase (-Garten -Hof, not "
                                   f"-(Garten | Hof) or --Garten)")
        _outside_groups(match, depth, "+ and - require or exclude in")
        taken.append(match.span())
        term = _term("text", raw, exclude=match.group("sign") == "-") if _searchable(raw) else None
        if term is not None and _searchable(term.value):
            terms.append(term)
    text = fold_whitespace(_cut_out(text, taken, lambda m: " " if m.startswith("-") else m[1:]))
    text = fold_whitespace(_cut_out(text, [match.span() for match, _ in _unquoted(DASH, text)], lambda _: " "))
    if not _searchable(text):
        # Search syntax alone (a stray "-", '"' or "*") finds nothing and, as a required clause, would leave the
        # field terms beside it nothing to match.
        text = ""
    return ParsedQuery(text=text, terms=tuple(terms))


def _cut_out(text: str, spans: list[tuple[int, int]], replace: Callable[[str], str]) -> str:
    """``text`` with each span replaced by ``replace`` of what it held."""
    pieces, start = [], 0
    for begin, end in spans:
        pieces += [text[start:begin], replace(text[begin:end])]
        start = end
    return "".join([*pieces, text[start:]])


def searched_fields(base: str, languages: Iterable[str]) -> list[str]:
    return [base, *(language_field(lang, base) for lang in languages)]


def _boosted(fields: Iterable[str], languages: tuple[str, ...]) -> list[str]:
    return [f"{name}^{FIELD_BOOSTS[base]:g}" for base in fields for name in searched_fields(base, languages)]


def _words(text: str) -> str:
    """The free text without operators, for the proximity boost: ``+a -b "c d"*`` -> ``a c d`` (excluded dropped)."""
    kept = re.sub(r'(?:(?<=\s)|^)-(?:"[^"]*"|\S+)', " ", text)
    return " ".join(WORD.findall(kept))


def _host(value: str) -> str:
    """The host a ``site:`` term or ``--domain`` names, as documents store it: ``https://Example.com:8080/a`` and
    ``example.com:8080`` are ``example.com``, ``münchen.de`` is ``xn--mnchen-3ya.de`` (URLs are normalised so)."""
    # Without a scheme, "?" and "#" would end the host unseen: site:exa?ple.com searched the host "exa".
    authority = "" if "://" in value else value.split("/", 1)[0]
    try:
        host = domain_of(value if "://" in value else f"//{value}").encode("idna").decode("ascii")
    except ValueError as exc:  # a malformed IPv6 literal, a label IDNA refuses (empty, over 63 characters)
        raise SearchQueryError(f"{value!r} is not a host name: {exc}") from exc
    bad = next((char for char in authority if char in "?#"), None) or next(
        (char for char in host if char not in HOST_CHARACTERS), None)
    if bad is not None:
        raise SearchQueryError(f"{value!r} is not a host name: {bad!r} has no place in one (* and ? are no "
                               f"wildcards: site:example.com covers its subdomains)")
    if not host:
        raise SearchQueryError(f"{value!r} names no host")
    return host


def _is_host(value: str) -> bool:
    return bool(value) and all(char in HOST_CHARACTERS for char in value)


def _field_clause(term: FieldTerm, languages: tuple[str, ...]) -> dict[str, Any]:
    if term.field == "lang":
        code = language_tag(term.value)
        if code is None:
            raise SearchQueryError(f"lang:{term.value} is not a language code (ISO 639-1: lang:de, lang:fr)")
        return {"term": {"lang": code}}
    if term.field == "site":
        value = term.value.removeprefix(SUBDOMAINS)
        # A quoted value is a site name ("AC/DC Fans") as much as a host: read as typed, not as a URL.
        host = (value.lower() if term.phrase else _host(value)).removeprefix("www.")
        hosts = [{"term": {"domain": host}}, {"term": {"domain": f"www.{host}"}},
                 {"wildcard": {"domain": {"value": f"*.{host}"}}}] if _is_host(host) else []
        names = [] if "://" in value else [  # a URL names a host only
            {"term": {"site_name": {"value": value, "case_insensitive": True}}}]
        return {"bool": {"should": [*hosts, *names], "minimum_should_match": 1}}
    if term.field == "text":
        fields = [name for base in ANALYSED_FIELDS for name in searched_fields(base, languages)]
    else:
        fields = searched_fields("title", languages) if term.field == "title" else ["author"]
    if term.operator:  # as the free text reads it; backslashes dropped, an escape would unclose the phrase
        words = term.value.replace("\\", " ")
        return {"simple_query_string": {"query": (f'"{words}"' if term.phrase else words) + term.operator,
                                        "fields": fields, "default_operator": "and", "analyze_wildcard": True}}
    kind = "phrase" if term.phrase else "best_fields"
    return {"multi_match": {"query": term.value, "fields": fields, "type": kind,
                            **({} if term.phrase else {"operator": "and"})}}


def _compound_parts_clauses(text: str, languages: tuple[str, ...]) -> list[dict[str, Any]]:
    """For each compound language searched, its fields matched by the parts of the query's words:
    an alternative to the words themselves, so a page that has ``Woche`` is found by ``Wochenrückblick``."""
    return [{"multi_match": {"query": text, "type": "most_fields", "analyzer": compound_parts_analyzer(lang),
                             "fields": [f"{language_field(lang, base)}^{FIELD_BOOSTS[base]:g}"
                                        for base in ANALYSED_FIELDS],
                             "boost": COMPOUND_PARTS_BOOST}}
            for lang in languages if lang in COMPOUND_LANGUAGES]


def build_search(request: SearchRequest) -> dict[str, Any]:
    """The body of the ``_search`` request (keyword arguments of ``Elasticsearch.search``)."""
    if request.since and request.until and request.since > request.until:
        raise SearchQueryError(f"--since {request.since} is after --until {request.until}")
    if request.size < 0 or request.offset < 0:
        raise SearchQueryError(f"--size {request.size} --from {request.offset}: neither can be negative")
    if request.offset + request.size > MAX_RESULT_WINDOW:
        raise SearchQueryError(f"--from {request.offset} with --size {request.size} goes past hit "
                               f"{MAX_RESULT_WINDOW:,}, the last one Elasticsearch pages to: narrow the query "
                               f"(--since, --until, site:...), or read every document with `readq export`")
    unknown = sorted(set(request.languages) - set(LANGUAGES))
    if unknown:
        raise SearchQueryError(f"no analyzer for language(s) {', '.join(unknown)}; known: {', '.join(LANGUAGES)}")
    word_count = len(WORD.findall(request.query))  # words, not spaces: "a|b|c" is three terms
    if word_count > MAX_QUERY_WORDS:
        raise SearchQueryError(f"the query has {word_count} words: at most {MAX_QUERY_WORDS}")
    parsed = parse_query(request.query)
    if not parsed.text and not parsed.terms:
        raise SearchQueryError("the query is empty: it has no word to search for (`*` alone is no query either: "
                               "`readq export` lists every document)")
    langs = request.languages
    must: list[dict[str, Any]] = []
    must_not: list[dict[str, Any]] = []
    should: list[dict[str, Any]] = []
    filters: list[dict[str, Any]] = []
    if parsed.text:
        fields = _boosted(ANALYSED_FIELDS, langs)
        if OPERATOR.search(parsed.text):
            must.append({"simple_query_string": {"query": parsed.text, "fields": fields, "default_operator": "or",
                                                 "analyze_wildcard": True}})
        else:  # plain words: several times cheaper to run than the syntax parser; most_fields sums the exact and
            # the stemmed field, as Elasticsearch advises for one text analysed two ways
            words_clause = {"multi_match": {"query": parsed.text, "fields": fields, "type": "most_fields"}}
            parts = _compound_parts_clauses(parsed.text, langs) if request.compound_parts else []
            must.append({"bool": {"should": [words_clause, *parts], "minimum_should_match": 1}} if parts
                        else words_clause)
        words = _words(parsed.text).split()[:PHRASE_MAX_WORDS]
        if len(words) > 1:
            # One field: the query language's (it matches inflected forms too) or, for several, the neutral one;
            # a phrase costs a positions walk per field searched.
            field = language_field(langs[0], "text") if len(langs) == 1 else "text"
            should.append({"match_phrase": {field: {"query": " ".join(words), "slop": PHRASE_SLOP,
                                                    "boost": PHRASE_BOOST}}})
    for term in parsed.terms:
        clause = _field_clause(term, langs)
        if term.exclude:
            must_not.append(clause)
        elif term.field in FILTER_PREFIXES or term.field == "text":
            filters.append(clause)
        else:
            must.append(clause)
    if request.domain:
        filters.append({"term": {"domain": _host(request.domain)}})
    if request.since or request.until:
        bounds = {}
        if request.since:
            bounds["gte"] = request.since.isoformat()
        if request.until:
            try:
                bounds["lt"] = (request.until + timedelta(days=1)).isoformat()
            except OverflowError:  # 9999-12-31 has no next day
                bounds["lte"] = request.until.isoformat()
        filters.append({"range": {"published": bounds}})
    highlighted = [name for base in ANALYSED_FIELDS for name in searched_fields(base, langs)]
    body: dict[str, Any] = {
        "query": {"bool": {"must": must, "should": should, "must_not": must_not, "filter": filters}},
        "from": request.offset,
        "size": request.size,
        "track_total_hits": True,
        "highlight": {
            "pre_tags": [HIGHLIGHT_TAGS[0]], "post_tags": [HIGHLIGHT_TAGS[1]],
            "fields": {name: ({"number_of_fragments": 0} if name.endswith("title")
                              else {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1})
                       for name in highlighted},
        },
        "source_excludes": SOURCE_EXCLUDES,
    }
    if request.collapse:
        body["collapse"] = {"field": "duplicate_group"}
    return body


def similar_count_search(groups: list[str]) -> dict[str, Any]:
    """The request that counts each hit's group (the page and its near-duplicates), whatever they match."""
    return {"size": 0, "query": {"terms": {"duplicate_group": groups}},
            "aggs": {"groups": {"terms": {"field": "duplicate_group", "size": max(1, len(groups))}}}}


def read_similar_counts(response: dict[str, Any]) -> dict[str, int]:
    """Group -> how many near-duplicates it holds besides its first page."""
    return {bucket["key"]: int(bucket["doc_count"]) - 1 for bucket in response["aggregations"]["groups"]["buckets"]}


def _base_field(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def read_highlights(highlight: dict[str, list[str]]) -> dict[str, str]:
    """One fragment per base field; a language field's fragment wins over the neutral one (it marks inflections)."""
    chosen: dict[str, str] = {}
    for name in sorted(highlight, key=lambda n: n.count(".")):  # neutral first, then overwritten by a language's
        fragments = highlight[name]
        if fragments:
            chosen[_base_field(name)] = fold_whitespace(fragments[0])
    return chosen


def _cut(snippet: str) -> str:
    """At most twice :data:`SNIPPET_CHARS`, cut between words, a highlight cut open closed again."""
    if len(snippet) <= SNIPPET_CHARS * 2:
        return snippet
    cut = snippet[: SNIPPET_CHARS * 2].rsplit(" ", 1)[0].rstrip("*")
    return cut + HIGHLIGHT_TAGS[1] if cut.count(HIGHLIGHT_TAGS[0]) % 2 else cut


def read_hit(raw: dict[str, Any], similar: dict[str, int] | None = None) -> SearchHit:
    source = raw["_source"]
    highlights = read_highlights(raw.get("highlight", {}))
    snippet = next((highlights[name] for name in SNIPPET_ORDER if name in highlights), None)
    if snippet is None:
        snippet = fold_whitespace(source.get("description") or "")
    group = (raw.get("fields", {}).get("duplicate_group") or [None])[0]
    return SearchHit(
        url=source["url"], title=source.get("title"), score=float(raw.get("_score") or 0.0),
        snippet=_cut(snippet), domain=source.get("domain"), lang=source.get("lang"),
        published=source.get("published"), duplicate_of=source.get("duplicate_of"),
        similar=(similar or {}).get(group, 0) if group else 0, highlights=highlights,
    )


def collapsed_groups(response: dict[str, Any]) -> list[str]:
    """The duplicate groups of a collapsed answer's hits, to count with :func:`similar_count_search`."""
    return [raw["fields"]["duplicate_group"][0] for raw in response["hits"]["hits"]
            if raw.get("fields", {}).get("duplicate_group")]


def read_results(response: dict[str, Any], request: SearchRequest,
                 similar: dict[str, int] | None = None) -> SearchResults:
    hits = response["hits"]
    return SearchResults(hits=[read_hit(raw, similar) for raw in hits["hits"]], total=int(hits["total"]["value"]),
                         offset=request.offset, languages=request.languages)
