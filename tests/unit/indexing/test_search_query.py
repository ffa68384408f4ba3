"""The search request builder and answer reader (workers/indexing/query.py) and the language tables: no
Elasticsearch."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from config.settings import Settings
from workers.extraction.languages import (
    ANALYZERS,
    COMPOUND_LANGUAGES,
    LANGUAGES,
    POLISH_ANALYZER,
    analysis_settings,
    compound_parts_analyzer,
    language_properties,
    pipeline_processors,
    query_languages,
)
from workers.indexing.elastic import pages_template
from workers.indexing.query import (
    COMPOUND_PARTS_BOOST,
    MAX_QUERY_WORDS,
    PHRASE_MAX_WORDS,
    SNIPPET_CHARS,
    SearchQueryError,
    SearchRequest,
    _nesting,
    _words,
    build_search,
    collapsed_groups,
    parse_query,
    read_highlights,
    read_hit,
    read_results,
    read_similar_counts,
    similar_count_search,
)


def _bool(body: dict[str, Any]) -> dict[str, Any]:
    return body["query"]["bool"]  # type: ignore[no-any-return]


def _text_alternatives(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The free text's clause and, for a compound language, its alternative on the query words' parts."""
    first = _bool(body)["must"][0]
    return first["bool"]["should"] if "bool" in first else [first]  # type: ignore[no-any-return]


def _text_clause(body: dict[str, Any]) -> dict[str, Any]:
    """The free-text clause: simple_query_string when the text uses its syntax, else a most-fields multi_match."""
    return next(c.get("simple_query_string") or c["multi_match"] for c in _text_alternatives(body)
                if "simple_query_string" in c or "text^1" in c["multi_match"]["fields"])


def test_free_text_searches_the_neutral_and_the_query_languages_fields_title_above_body() -> None:
    body = build_search(SearchRequest(query="neue Häuser", languages=("de",)))

    fields = _text_clause(body)["fields"]
    assert fields == ["title^3", "i18n.de.title^3", "description^2", "i18n.de.description^2", "text^1",
                      "i18n.de.text^1"]
    assert not any(".fr." in f for f in fields)
    assert _text_clause(body)["query"] == "neue Häuser"
    assert "multi_match" in _text_alternatives(body)[0]  # plain words need no query-string parser
    syntax = build_search(SearchRequest(query="neue Häuser*", languages=("de",)))
    assert _bool(syntax)["must"][0]["simple_query_string"]["fields"] == fields


def test_plain_words_of_a_compound_language_may_match_by_their_parts_instead() -> None:
    body = build_search(SearchRequest(query="Kaisers Wochenrückblick", languages=("de", "en")))

    words, parts = _text_alternatives(body)
    assert _bool(body)["must"][0]["bool"]["minimum_should_match"] == 1  # either finds the page
    assert words["multi_match"]["fields"][0] == "title^3" and "analyzer" not in words["multi_match"]
    assert parts["multi_match"] == {"query": "Kaisers Wochenrückblick", "type": "most_fields",
                                    "analyzer": "readq_de_parts", "boost": COMPOUND_PARTS_BOOST,
                                    "fields": ["i18n.de.title^3", "i18n.de.description^2", "i18n.de.text^1"]}
    english = build_search(SearchRequest(query="weekly review", languages=("en",)))
    syntax = build_search(SearchRequest(query='"Kaisers Wochenrückblick"', languages=("de",)))  # the user's syntax
    old_index = build_search(SearchRequest(query="Kaisers Wochenrückblick", languages=("de",), compound_parts=False))
    for body in (english, syntax, old_index):
        assert len(_text_alternatives(body)) == 1


def test_the_parts_analyzer_reads_each_word_also_as_its_prefixes_and_suffixes_stemmed_like_the_field() -> None:
    settings = analysis_settings()
    parts = settings["analyzer"][compound_parts_analyzer("de")]

    assert set(COMPOUND_LANGUAGES) == {"de"}
    chain = parts["filter"]
    assert chain[:3] == ["lowercase", "readq_de_stop", "german_normalization"]  # as the built-in german analyzer
    assert settings["filter"]["readq_de_stemmer"] == {"type": "stemmer", "language": "light_german"}
    assert chain.index("readq_parts") < chain.index("readq_de_stemmer") < chain.index("readq_part_length")
    assert settings["filter"]["readq_parts"]["filters"] == ["readq_part_prefixes",
                                                          "reverse, readq_part_prefixes, reverse"]
    assert settings["filter"]["readq_parts"]["preserve_original"] is True


def test_several_words_get_a_phrase_proximity_boost_one_word_does_not() -> None:
    two = build_search(SearchRequest(query='+climate -opinion "policy change"*', languages=("en",)))
    one = build_search(SearchRequest(query="climate", languages=("en",)))

    phrase = _bool(two)["should"][0]["match_phrase"]["i18n.en.text"]
    assert phrase["slop"] > 0 and phrase["boost"] > 1
    assert phrase["query"] == "climate policy change"  # operators dropped, the excluded word too
    several = build_search(SearchRequest(query="climate policy", languages=("en", "de")))
    assert list(_bool(several)["should"][0]["match_phrase"]) == ["text"]
    assert _bool(one)["should"] == [] and _bool(one)["must"]
    long = build_search(SearchRequest(query="What Anti-Trafficking Advocates Can Learn from Sex Workers: The "
                                            "Dynamics of Choice", languages=("en",)))
    words = _bool(long)["should"][0]["match_phrase"]["i18n.en.text"]["query"].split()
    assert words == ["What", "Anti", "Trafficking", "Advocates", "Can", "Learn"][:PHRASE_MAX_WORDS]
    assert "Workers" in _text_clause(long)["query"]  # the words clause keeps every word


def test_field_terms_become_clauses_of_their_own() -> None:
    body = build_search(SearchRequest(
        query='Wahl title:"neue Regierung" author:Müller site:www.example.com -site:spam.example lang:de',
        languages=("de",)))
    clauses = _bool(body)

    assert _text_clause(body)["query"] == "Wahl"
    title = next(c["multi_match"] for c in clauses["must"] if "multi_match" in c and "title" in c["multi_match"]
                 ["fields"])
    assert title == {"query": "neue Regierung", "fields": ["title", "i18n.de.title"], "type": "phrase"}
    author = next(c["multi_match"] for c in clauses["must"] if "multi_match" in c
                  and c["multi_match"]["fields"] == ["author"])
    assert author["query"] == "Müller" and author["operator"] == "and"
    site_terms = json.dumps(clauses["filter"])
    assert '"domain": "example.com"' in site_terms and '"*.example.com"' in site_terms
    assert {"term": {"lang": "de"}} in clauses["filter"]
    assert "spam.example" in json.dumps(clauses["must_not"]) and "spam.example" not in site_terms


def test_dates_paging_collapse_and_highlights() -> None:
    body = build_search(SearchRequest(query="x", languages=("fr",), size=5, offset=20,
                                      since=date(2024, 1, 1), until=date(2024, 1, 31)))

    assert {"range": {"published": {"gte": "2024-01-01", "lt": "2024-02-01"}}} in _bool(body)["filter"]
    assert (body["from"], body["size"], body["track_total_hits"]) == (20, 5, True)
    assert body["collapse"] == {"field": "duplicate_group"}
    assert set(body["highlight"]["fields"]) == {"title", "i18n.fr.title", "description", "i18n.fr.description",
                                                "text", "i18n.fr.text"}
    assert "collapse" not in build_search(SearchRequest(query="x", collapse=False))


@pytest.mark.parametrize(("request_", "reason"), [
    (SearchRequest(query="   "), "empty"),
    (SearchRequest(query='title:"" -author:""'), "empty"),
    (SearchRequest(query="x", since=date(2024, 2, 1), until=date(2024, 1, 1)), "after"),
    (SearchRequest(query="x", languages=("xx",)), r"no analyzer for language\(s\) xx"),
])
def test_bad_requests_are_refused_with_their_reason(request_: SearchRequest, reason: str) -> None:
    with pytest.raises(SearchQueryError, match=reason):
        build_search(request_)


def test_answers_read_into_hits_with_the_matching_fields_highlight_and_similar_count() -> None:
    response = {"hits": {"total": {"value": 7}, "hits": [
        {"_score": 2.5, "_source": {"url": "http://a/1", "title": "Häuser", "lang": "de", "description": "d"},
         "highlight": {"text": ["die Häuser"], "i18n.de.text": ["die **Häuser**"], "title": ["**Häuser**"]},
         "fields": {"duplicate_group": ["http://a/1"]}},
        {"_score": 1.0, "_source": {"url": "http://a/2", "description": "  a   summary "},
         "fields": {"duplicate_group": ["http://a/2"]}},
    ]}}
    request = SearchRequest(query="Haus", languages=("de",), offset=10)
    groups = collapsed_groups(response)
    counts = {"aggregations": {"groups": {"buckets": [{"key": "http://a/1", "doc_count": 3},
                                                      {"key": "http://a/2", "doc_count": 1}]}}}

    assert groups == ["http://a/1", "http://a/2"]
    assert similar_count_search(groups)["query"] == {"terms": {"duplicate_group": groups}}
    results = read_results(response, request, read_similar_counts(counts))

    assert (results.total, results.offset, results.languages) == (7, 10, ("de",))
    first, second = results
    assert first.snippet == "die **Häuser**" and first.highlights["title"] == "**Häuser**"
    assert first.similar == 2 and second.similar == 0
    assert second.snippet == "a summary"  # no highlight: the description stands in
    assert results.to_dict()["hits"][0]["url"] == "http://a/1"


def test_a_language_fields_highlight_wins_over_the_neutral_one() -> None:
    chosen = read_highlights({"i18n.fr.text": ["**chevaux**"], "text": ["chevaux"], "description": []})
    assert chosen == {"text": "**chevaux**"}


@given(st.text(max_size=200))
def test_any_query_parses_or_is_refused_and_its_field_terms_leave_the_free_text(query: str) -> None:
    try:
        parsed = parse_query(query)
    except SearchQueryError as exc:  # a field name without its value, an operator where it means nothing
        assert re.search(r"(?i)(title|author|site|lang):|[-+*~]", query), exc
        return
    for term in parsed.terms:
        assert term.field in ("title", "author", "site", "lang", "text")
        assert term.value and term.value == term.value.strip() and '"' not in term.value
    assert "title:" not in parsed.text.split()[0:1]
    assert parsed.text == " ".join(parsed.text.split())


@given(st.lists(st.sampled_from(["Haus", '"neue Wahl"', "+Berlin", "-Paris", "Stadt*", "title:Wahl",
                                 'author:"A B"', "site:example.com", "-lang:fr", "a|b", "(x | y)", "\"open", "Häus*",
                                 "title:Häus*", "-Haus*", "+Hause~1", '-"a b"~2', "|-Paris", "site:*.example.com"]),
                min_size=1, max_size=6),
       st.lists(st.sampled_from(LANGUAGES), max_size=3, unique=True))
def test_any_combination_builds_a_request_that_searches_what_was_asked(parts: list[str], langs: list[str]) -> None:
    query = " ".join(parts)
    body = build_search(SearchRequest(query=query, languages=tuple(langs)))
    clauses = _bool(body)
    parsed = parse_query(query)

    assert len(clauses["must"]) + len(clauses["filter"]) + len(clauses["must_not"]) >= 1
    if parsed.text:
        fields = _text_clause(body)["fields"]
        assert all(f"i18n.{lang}.text^1" in fields for lang in langs)
        assert ("simple_query_string" in _bool(body)["must"][0]) == any(
            op in parsed.text for op in ('"', "|", "(", "+", "-", "*", "~"))
        assert len(fields) == 3 * (1 + len(langs))
    assert len(clauses["must_not"]) == sum(t.exclude for t in parsed.terms)
    json.dumps(body)  # a request the client can send


def test_every_language_has_an_analyzer_field_and_a_pipeline_copy() -> None:
    properties = language_properties()["i18n"]["properties"]
    processors = json.dumps(pipeline_processors())

    assert set(properties) == set(LANGUAGES) == set(ANALYZERS)
    assert properties["de"]["properties"]["text"]["analyzer"] == "german"
    assert properties["pl"]["properties"]["title"]["analyzer"] == POLISH_ANALYZER
    assert POLISH_ANALYZER in analysis_settings()["analyzer"]
    assert all(f"'{lang}'" in processors for lang in LANGUAGES)
    template = pages_template(Settings(index_prefix="t"))
    assert template["settings"]["index"]["default_pipeline"] == "t-pages-languages"
    assert template["mappings"]["properties"]["duplicate_group"] == {"type": "keyword"}


def test_the_query_language_is_the_given_one_the_confidently_detected_one_or_all() -> None:
    assert query_languages("anything", "DE") == ("de",)
    assert query_languages("anything", "all") == LANGUAGES == query_languages("anything", "ALL")
    assert query_languages("Die Bundesregierung beschließt ein neues Gesetz", None) == ("de",)
    assert query_languages("Trump", None) == LANGUAGES  # too short to tell
    assert query_languages("", None) == LANGUAGES
    assert query_languages("x", "all", indexed=[]) == () and query_languages("x", None, indexed=[]) == ()
    assert query_languages("Trump", "all", indexed=["en", "de", "xx"]) == ("de", "en")  # all = those indexed


def test_the_query_language_is_told_among_the_indexed_ones_and_when_unsure_the_likeliest_few() -> None:
    spanish = "Senador republicano califica a Biden de incapacitado"  # Galician, Spanish or Portuguese?
    assert query_languages(spanish, None) == LANGUAGES  # among all 38: no three hold 90 %
    assert query_languages(spanish, None, indexed=["de", "en", "es", "fr"]) == ("es",)
    unsure = query_languages("Plejaden, M45", None, indexed=["de", "en", "es", "fr", "pl"])
    assert 1 < len(unsure) <= 3 and "de" in unsure


def test_the_kibana_pages_data_view_labels_every_language_field_and_only_mapped_ones() -> None:
    ndjson = Path(__file__).resolve().parents[3] / "config" / "kibana" / "readq.ndjson"
    pages_view = next(o for o in map(json.loads, ndjson.read_text(encoding="utf-8").splitlines())
                      if o["id"] == "readq-pages")
    labelled = json.loads(pages_view["attributes"]["fieldAttrs"])
    properties = pages_template(Settings())["mappings"]["properties"]

    def mapped(name: str) -> bool:
        node: Any = {"properties": properties}
        for part in name.split("."):
            node = node.get("properties", {}).get(part)
            if node is None:
                return False
        return "type" in node

    assert {f"i18n.{lang}.{field}" for lang in LANGUAGES for field in ("title", "description", "text")} <= set(
        labelled)
    assert all(mapped(name) for name in labelled)
    assert labelled["i18n.de.text"]["customLabel"] == "text (german analyzer)"


# --- what a careless or hostile user types --------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["-", "+", '"', "()", "~", "|", "*", "+ - |", "\\", "—", '"" ()'])
def test_search_syntax_alone_is_an_empty_query(query: str) -> None:
    with pytest.raises(SearchQueryError, match="empty"):
        build_search(SearchRequest(query=query, languages=("de",)))


@pytest.mark.parametrize("stray", ["-", "+", '"', "()", "*", "|", "\\"])
def test_a_stray_operator_beside_field_terms_does_not_empty_the_result(stray: str) -> None:
    body = build_search(SearchRequest(query=f"title:Wohnungsmarkt {stray}", languages=("de",)))

    assert _bool(body)["must"] == [{"multi_match": {"query": "Wohnungsmarkt", "fields": ["title", "i18n.de.title"],
                                                    "type": "best_fields", "operator": "and"}}]


@pytest.mark.parametrize(("query", "named"), [
    ("title:", "title:"), ("title: Haus", "title:"), ("Haus author:", "author:"), ('title:"neue Regierung', "title:"),
    ("site:", "site:"), ("-LANG:", "lang:"), ("Haus Title:", "title:"),
])
def test_a_field_term_without_its_value_is_refused_by_name(query: str, named: str) -> None:
    with pytest.raises(SearchQueryError, match=f"{named} needs a word or a quoted phrase"):
        build_search(SearchRequest(query=query))


@pytest.mark.parametrize(("size", "offset", "reason"), [
    (-1, 0, "--size -1"), (10, -1, "--from -1"), (10, 9_995, "10,000"), (1, 10_000, "10,000"),
])
def test_paging_outside_elasticsearchs_result_window_is_refused(size: int, offset: int, reason: str) -> None:
    with pytest.raises(SearchQueryError, match=reason):
        build_search(SearchRequest(query="x", size=size, offset=offset))


def test_paging_up_to_the_last_hit_of_the_result_window_and_a_count_only_search_are_fine() -> None:
    assert (build_search(SearchRequest(query="x", size=10, offset=9_990))["from"],
            build_search(SearchRequest(query="x", size=0))["size"]) == (9_990, 0)


def test_until_the_last_representable_day_does_not_overflow() -> None:
    body = build_search(SearchRequest(query="x", since=date(2024, 1, 1), until=date.max))

    assert {"range": {"published": {"gte": "2024-01-01", "lte": "9999-12-31"}}} in _bool(body)["filter"]


@pytest.mark.parametrize("site", ["https://user:secret@Example.com:8443/news?x=1", "example.com:80", "EXAMPLE.com",
                                  "http://www.example.com/"])
def test_site_and_domain_take_the_host_of_a_url_or_host_and_port(site: str) -> None:
    body = build_search(SearchRequest(query=f"x site:{site}", domain=site))
    filters = json.dumps(_bool(body)["filter"])

    assert {"term": {"domain": "example.com"}} in _bool(body)["filter"][0]["bool"]["should"]
    assert '"*.example.com"' in filters
    assert {"term": {"domain": "www.example.com" if "www." in site else "example.com"}} == _bool(body)["filter"][1]
    assert "secret" not in filters and "8443" not in filters


def test_an_empty_host_in_site_or_domain_is_refused() -> None:
    for request in (SearchRequest(query="x site:https://"), SearchRequest(query="x", domain="http://")):
        with pytest.raises(SearchQueryError, match="no host"):
            build_search(request)


def _searchable(text: str) -> bool:
    """Has a character the standard tokenizer makes a token of: a letter, a digit or a symbol such as an emoji."""
    return any(c.isalnum() or unicodedata.category(c) == "So" for c in text)


def _clauses(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _clauses(value)
    elif isinstance(node, list):
        for item in node:
            yield from _clauses(item)


@hypothesis_settings(max_examples=300)
@given(st.lists(st.one_of(st.characters(), st.sampled_from(['"', "-", "+", "*", "|", "(", ")", "~", " ", "\\", "title:",
                                                          "author:", "site:", "lang:", "https://", ":8080"])),
                max_size=40).map("".join),
       st.integers(-5, 10_050), st.integers(-5, 10_050), st.one_of(st.none(), st.dates()),
       st.one_of(st.none(), st.dates()))
def test_any_input_is_refused_clearly_or_builds_a_well_formed_request(query: str, size: int, offset: int,
                                                                     since: date | None, until: date | None) -> None:
    request = SearchRequest(query=query, languages=("de", "en"), size=size, offset=offset, since=since, until=until)
    try:
        body = build_search(request)
    except SearchQueryError as exc:
        assert str(exc)
        return
    json.dumps(body)
    assert body["from"] >= 0 and body["size"] >= 0 and body["from"] + body["size"] <= 10_000
    for kind, clause in _clauses(body["query"]):
        if kind in ("simple_query_string", "multi_match"):
            assert clause["query"] == clause["query"].strip() and clause["query"]
            assert _searchable(clause["query"])
            if "text^1" in clause["fields"]:  # the free text: every field term taken out
                assert not re.search(r"(?i)(?:^|\s)[+-]?(?:title|author|site|lang):", clause["query"])
        if kind == "range":
            assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", v) for v in clause["published"].values())
        if kind == "term" and "domain" in clause:
            assert clause["domain"] and clause["domain"] == clause["domain"].lower()


@given(st.text(max_size=120))
def test_the_proximity_words_are_words_of_the_query_only(text: str) -> None:
    words = _words(text)
    assert words == " ".join(words.split())
    assert all(word in text for word in words.split())


@given(st.integers(0, 2 * SNIPPET_CHARS), st.sampled_from(["a", "a " * 200]),
       st.sampled_from(["title", "text", "i18n.de.text", "description"]))
def test_a_snippet_cut_short_never_leaves_a_highlight_open(before: int, after: str, name: str) -> None:
    fragment = " ".join(f"{'x' * before} **neue Häuser** {after}".split())
    hit = read_hit({"_source": {"url": "http://a/"}, "highlight": {name: [fragment]}})

    assert hit.snippet.count("**") % 2 == 0 and "***" not in hit.snippet
    assert len(hit.snippet) <= SNIPPET_CHARS * 2 + len("**")
    assert fragment.startswith(hit.snippet.removesuffix("**"))


def test_a_query_of_more_words_than_a_search_server_can_parse_quickly_is_refused() -> None:
    longest = " ".join(f"-w{i}" for i in range(MAX_QUERY_WORDS))

    assert build_search(SearchRequest(query=longest))["query"]
    with pytest.raises(SearchQueryError, match=f"{MAX_QUERY_WORDS + 1} words: at most {MAX_QUERY_WORDS}"):
        build_search(SearchRequest(query=f"{longest} Haus"))
    with pytest.raises(SearchQueryError, match=f"{MAX_QUERY_WORDS + 1} words"):  # no space, yet as many terms
        build_search(SearchRequest(query="|".join(f"w{i}" for i in range(MAX_QUERY_WORDS + 1))))


@pytest.mark.parametrize(("term", "code"), [("lang:DE", "de"), ("lang:de-DE", "de"), ("-lang:pt_BR", "pt")])
def test_a_lang_term_reads_a_language_tag_as_documents_store_it(term: str, code: str) -> None:
    clauses = _bool(build_search(SearchRequest(query=f"Haus {term}")))

    assert {"term": {"lang": code}} in clauses["filter"] + clauses["must_not"]


@pytest.mark.parametrize("value", ["german", "*", "d3", "-"])
def test_a_lang_term_that_is_no_language_code_is_refused(value: str) -> None:
    with pytest.raises(SearchQueryError, match=f"lang:{re.escape(value)} is not a language code"):
        build_search(SearchRequest(query=f"Haus lang:{value}"))


def test_a_quoted_site_is_a_site_name_as_typed_not_a_url() -> None:
    should = _bool(build_search(SearchRequest(query='x site:"AC/DC Fans"')))["filter"][0]["bool"]["should"]

    assert {"term": {"site_name": {"value": "AC/DC Fans", "case_insensitive": True}}} in should
    assert {"wildcard": {"domain": {"value": "*.ac"}}} not in should  # not the .ac top-level domain


def test_a_query_typed_or_pasted_decomposed_searches_the_composed_letters_documents_have() -> None:
    decomposed = unicodedata.normalize("NFD", 'Häuser title:"Café" author:Zoë')
    body = build_search(SearchRequest(query=decomposed, languages=("de",)))
    musts = json.dumps(_bool(body)["must"], ensure_ascii=False)

    assert decomposed != 'Häuser title:"Café" author:Zoë'
    assert _text_clause(body)["query"] == "Häuser" and "Café" in musts and "Zoë" in musts
    assert parse_query(decomposed).language_text == "Häuser Café"


def test_a_query_copied_from_a_page_with_soft_hyphens_searches_the_words_without_them() -> None:
    parsed = parse_query("Bundes\u00adregierung title:Wahl\u00adkampf")

    assert parsed.text == "Bundesregierung" and parsed.terms[0].value == "Wahlkampf"


def test_an_international_site_is_searched_in_the_punycode_documents_store_it_in() -> None:
    body = build_search(SearchRequest(query="x site:München.de", domain="https://bücher.example/"))
    should = _bool(body)["filter"][0]["bool"]["should"]

    assert {"term": {"domain": "xn--mnchen-3ya.de"}} in should
    assert _bool(body)["filter"][1] == {"term": {"domain": "xn--bcher-kva.example"}}
    with pytest.raises(SearchQueryError, match="not a host name"):
        build_search(SearchRequest(query=f"x site:{'a' * 64}.de"))  # a label longer than DNS allows


def test_a_site_name_matches_whatever_its_case() -> None:
    should = _bool(build_search(SearchRequest(query='x site:"der spiegel"')))["filter"][0]["bool"]["should"]

    assert {"term": {"site_name": {"value": "der spiegel", "case_insensitive": True}}} in should


def test_a_query_that_is_not_utf8_is_refused_before_it_is_sent() -> None:
    latin1 = b"Stra\xdfe".decode("utf-8", "surrogateescape")  # what Python makes of a Latin-1 terminal's argument

    with pytest.raises(SearchQueryError, match="not UTF-8"):
        build_search(SearchRequest(query=latin1))


@given(st.dictionaries(st.sampled_from(["title", "text", "description", "i18n.de.text", "i18n.fr.title"]),
                       st.lists(st.text(min_size=1, max_size=30), max_size=2)))
def test_highlights_are_one_folded_fragment_per_matched_field_a_language_fields_first(
        highlight: dict[str, list[str]]) -> None:
    chosen = read_highlights(highlight)

    assert set(chosen) == {name.rsplit(".", 1)[-1] for name, fragments in highlight.items() if fragments}
    for base, fragment in chosen.items():
        sources = [name for name in highlight if name.rsplit(".", 1)[-1] == base and highlight[name]]
        preferred = [name for name in sources if name.startswith("i18n.")] or sources
        assert fragment in {" ".join(highlight[name][0].split()) for name in preferred}


def test_excluded_words_and_phrases_exclude_whatever_else_matches() -> None:
    """Simple-query-string ORs a ``-word`` with the other words by default, so ``Wahl -Umfrage`` found every page
    without "Umfrage" and every page with "Wahl", "Umfrage" or not (elastic/elasticsearch#4707): excluded words
    and phrases are clauses of their own, in every field searched."""
    body = build_search(SearchRequest(query='Wahl -Umfrage -"neue Regierung" e-mail', languages=("de",)))
    must_not = _bool(body)["must_not"]

    assert parse_query('Wahl -Umfrage -"neue Regierung" e-mail').text == "Wahl e-mail"
    assert {c["multi_match"]["query"] for c in must_not} == {"Umfrage", "neue Regierung"}
    phrase = next(c["multi_match"] for c in must_not if c["multi_match"]["query"] == "neue Regierung")
    assert phrase["type"] == "phrase"
    assert phrase["fields"] == ["title", "i18n.de.title", "description", "i18n.de.description", "text", "i18n.de.text"]
    assert "Umfrage" not in json.dumps(_bool(body)["must"]) + json.dumps(_bool(body)["should"])


def test_a_required_word_or_phrase_filters_wherever_it_stands_and_still_scores_as_a_word() -> None:
    """Simple-query-string reads ``+`` as AND between two words: a leading ``+Haus`` required nothing."""
    body = build_search(SearchRequest(query='+Haus river +"neue Regierung"', languages=("de",)))
    required = [c["multi_match"] for c in _bool(body)["filter"]]

    assert parse_query('+Haus river +"neue Regierung"').text == 'Haus river "neue Regierung"'
    assert [(c["query"], c["type"]) for c in required] == [("Haus", "best_fields"), ("neue Regierung", "phrase")]
    assert required[0]["fields"][-1] == "i18n.de.text" and _bool(body)["must_not"] == []


# --- search syntax inside field terms, signed terms and groups ------------------------------------------------------

def _operator_clause(query: str, kind: str) -> dict[str, Any]:
    """The one clause of ``kind`` (must, filter, must_not) that is not the free text's."""
    clauses = [c for c in _bool(build_search(SearchRequest(query=query, languages=("de",))))[kind]
               if "text^1" not in json.dumps(c)]
    assert len(clauses) == 1, clauses
    return clauses[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("query", "kind", "operated", "fields"), [
    ("title:Häus*", "must", "Häus*", ["title", "i18n.de.title"]),
    ("author:Schm*", "must", "Schm*", ["author"]),
    ("Wahl +Haus*", "filter", "Haus*", None),
    ("Wahl -Haus*", "must_not", "Haus*", None),
    ("Wahl +Hause~1", "filter", "Hause~1", None),
    ('Wahl -"neue Regierung"~2', "must_not", '"neue Regierung"~2', None),
    ('title:"neue Regierung"~2 Wahl', "must", '"neue Regierung"~2', ["title", "i18n.de.title"]),
])
def test_a_prefix_fuzzy_or_slop_operator_in_a_field_or_signed_term_means_what_it_means_in_the_free_text(
        query: str, kind: str, operated: str, fields: list[str] | None) -> None:
    """A field or signed term went out as a multi_match, whose analyzer drops ``*`` and ``~``: ``title:Häus*``
    searched the word "häus", ``+Haus*`` required the word "Haus" while the free text's ``Haus*`` was a prefix."""
    clause = _operator_clause(query, kind)["simple_query_string"]

    assert clause["query"] == operated and clause["default_operator"] == "and" and clause["analyze_wildcard"]
    assert clause["fields"] == (fields or ["title", "i18n.de.title", "description", "i18n.de.description", "text",
                                           "i18n.de.text"])
    assert "~" not in parse_query(query).text.replace(operated, "")  # no slop left behind to search as a word


@pytest.mark.parametrize("query", ["title:Ha*s", "+*Haus", "-e-mai*", "author:Sch**", "title:Haus~x", "+Ha~us"])
def test_a_star_or_tilde_an_operator_cannot_read_in_a_field_or_signed_term_is_refused(query: str) -> None:
    with pytest.raises(SearchQueryError, match=r"\* ends a word"):
        build_search(SearchRequest(query=query))


@pytest.mark.parametrize("query", ["(Haus -Garten)", "Haus (-Garten | Hof)", "(+Haus Hof)", "Hof | (Haus +Garten)",
                                   "Haus (Hof -Garten", '(Haus -"am See")'])
def test_a_sign_inside_parentheses_is_refused_for_it_applies_to_the_whole_query(query: str) -> None:
    """Simple-query-string ORs ``(-Garten | Hof)``'s negation into a match of nearly everything; readq's ``-word``
    excludes from the whole query, which a group cannot scope."""
    with pytest.raises(SearchQueryError, match="outside the parentheses"):
        build_search(SearchRequest(query=query))


@pytest.mark.parametrize("query", ["Haus |-Garten", "Haus|-Garten", "(Haus | Hof) -Garten", '"a (b" -Garten'])
def test_a_sign_after_a_bar_or_outside_a_group_excludes_from_the_whole_query(query: str) -> None:
    """``Haus |-Garten`` was left to simple-query-string, which ORs the negation: nearly every page matched."""
    body = build_search(SearchRequest(query=query, languages=("de",)))

    assert [c["multi_match"]["query"] for c in _bool(body)["must_not"]] == ["Garten"]
    assert "Garten" not in json.dumps(_bool(body)["must"])


@pytest.mark.parametrize("query", ["Haus -(Garten | Hof)", "+(Haus | Hof) Garten", "+-Haus", "Haus --Garten"])
def test_a_sign_before_a_group_or_another_sign_is_refused(query: str) -> None:
    with pytest.raises(SearchQueryError, match="take a word or a quoted phrase"):
        build_search(SearchRequest(query=query))


def test_a_site_with_a_leading_star_is_the_site_and_its_subdomains_as_without_it() -> None:
    plain = _bool(build_search(SearchRequest(query="x site:example.com")))["filter"]

    assert _bool(build_search(SearchRequest(query="x site:*.example.com")))["filter"] == plain
    assert json.dumps(_bool(build_search(SearchRequest(query='x site:"*.Example.com"')))["filter"]).count(
        '"*.example.com"') == 1


@pytest.mark.parametrize(("site", "named"), [
    ("site:exa?ple.com", "'?'"), ("site:exa*ple.com", "'*'"), ("site:*example.com", "'*'"),
    ("site:exa#ple.com", "'#'"), ("site:https://*.example.com/", "'*'"), ("site:ex%41mple.com", "'%'"),
])
def test_a_site_with_wildcards_or_characters_no_host_has_is_refused(site: str, named: str) -> None:
    """``site:exa?ple.com`` searched the host "exa" (a URL's query starts at "?"), ``site:exa*ple.com`` went into a
    wildcard query unescaped."""
    with pytest.raises(SearchQueryError, match=f"not a host name.*{re.escape(named)}"):
        build_search(SearchRequest(query=f"x {site}"))
    with pytest.raises(SearchQueryError, match="not a host name"):
        build_search(SearchRequest(query="x", domain=site.removeprefix("site:")))


def test_a_quoted_site_that_is_no_host_name_is_searched_as_a_site_name_only() -> None:
    should = _bool(build_search(SearchRequest(query='x site:"exa*ple"')))["filter"][0]["bool"]["should"]

    assert should == [{"term": {"site_name": {"value": "exa*ple", "case_insensitive": True}}}]


@pytest.mark.parametrize("query", ["Haus~3", "Haus~21 Hof", "+Hause~3", "title:Haus~9", "8080~21", "title:~21"])
def test_a_fuzziness_past_two_edits_is_refused_before_elasticsearch_refuses_it_with_a_400(query: str) -> None:
    with pytest.raises(SearchQueryError, match="fuzziness is 0, 1 or 2 edits"):
        build_search(SearchRequest(query=query))


@pytest.mark.parametrize("query", ['"neue Regierung"~30', 'title:"neue Regierung"~30', "Haus ~3", "Haus*~3",
                                   "Haus~2", '"Haus~3"'])
def test_a_phrases_slop_and_a_tilde_that_is_no_fuzziness_have_no_such_limit(query: str) -> None:
    assert build_search(SearchRequest(query=query))["query"]


@pytest.mark.parametrize("query", ["title:(Haus Hof)", "author:(Anna | Bob)", "-site:(a.de b.de)"])
def test_a_field_term_of_a_group_is_refused(query: str) -> None:
    """``title:(Haus Hof)`` required "Haus" in the title and searched "Hof)" anywhere."""
    with pytest.raises(SearchQueryError, match="takes a word or a quoted phrase, not a group"):
        build_search(SearchRequest(query=query))


@pytest.mark.parametrize("query", ['"Mercedes -Benz" Preise', '"Preis +Steuer" Auto', '"wir title:Haus" Preise',
                                   '"a (b -c) d" Preise'])
def test_search_syntax_inside_a_quoted_phrase_is_words_of_the_phrase(query: str) -> None:
    """A ``-word`` or ``title:word`` inside quotes was torn out of the phrase into a clause of its own."""
    parsed = parse_query(query)

    assert parsed.text == query and parsed.terms == ()


@pytest.mark.parametrize(("query", "text"), [("Wahl 2024 - Ergebnisse", "Wahl 2024 Ergebnisse"),
                                             ("Haus -- Garten", "Haus Garten"), ("(Haus - Hof) | x", "(Haus Hof) | x"),
                                             ('"Berlin - Mitte" Wahl', '"Berlin - Mitte" Wahl')])
def test_a_dash_standing_apart_is_punctuation_not_a_negation(query: str, text: str) -> None:
    """A title pasted with its dash ("Wahl 2024 - Ergebnisse") went to simple-query-string, which read "- Ergebnisse"
    as NOT Ergebnisse, ORed with the other words: every page without "Ergebnisse" matched."""
    parsed = parse_query(query)

    assert parsed.text == text and parsed.terms == ()


@pytest.mark.parametrize("query", ["title:Haus | title:Hof", "site:a.de|site:b.de", "title:Haus|Hof", "Haus | lang:de",
                                   'author:"A B" |x'])
def test_a_field_term_beside_a_bar_is_refused_for_every_field_term_must_match(query: str) -> None:
    """``site:a.de | site:b.de`` searched pages of both sites at once (none), ``title:Haus|Hof`` titles with both."""
    with pytest.raises(SearchQueryError, match=r"cannot be one side of \|"):
        build_search(SearchRequest(query=query))


@pytest.mark.parametrize("query", ["title:Haus |", "-Paris | title:Haus", "title:Haus |-Paris", "x | y title:Haus"])
def test_a_stray_bar_or_one_beside_a_signed_term_leaves_a_field_term_alone(query: str) -> None:
    assert build_search(SearchRequest(query=query))["query"]


@given(st.text(alphabet='ab "()-', max_size=40))
def test_the_nesting_of_a_query_is_its_open_parentheses_outside_phrases(text: str) -> None:
    """Against a plain walk through the characters: quotes pair left to right (an unclosed one is a character), a
    stray ")" closes nothing."""
    expected, depth, index = [], 0, 0
    while index < len(text):
        close = text.find('"', index + 1) if text[index] == '"' else -1
        if close != -1:
            expected += [-1] * (close + 1 - index)
            index = close + 1
            continue
        depth = depth + 1 if text[index] == "(" else max(0, depth - (text[index] == ")"))
        expected.append(depth)
        index += 1
    levels = _nesting(text)

    assert [level for char, level in zip(text, levels, strict=True) if char not in "()"] == [
        level for char, level in zip(text, expected, strict=True) if char not in "()"]
