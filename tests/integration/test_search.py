"""Search through real indexing: documents built as the pipeline builds them, written by readq's bulk indexer through
the alias (so the index template's ingest pipeline runs), searched with ``Client.search`` and ``readq search``;
and ``readq setup --migrate`` from an index of the former mapping, with a crash at each of its steps."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from config.settings import Settings
from readq import Client
from readq._exit_codes import PARTIAL, SUCCESS, USAGE
from tests.integration.test_cli import run
from tests.support.services import drop_indices
from workers.extraction.documents import build_document, document_id, page_document
from workers.extraction.extractor import Extraction, Extractor
from workers.extraction.metadata import PageMetadata
from workers.indexing.elastic import index_versions, mapping_version, write_index
from workers.indexing.indexer import BulkIndexer
from workers.indexing.query import SearchQueryError, SearchRequest, build_search

FILLER = "Dieser Satz füllt den Text nur auf, damit er lang genug ist. "


def page(url: str, title: str, text: str, lang: str, *, published: str | None = None,
         author: str | None = None, duplicate_of: str | None = None) -> dict[str, Any]:
    metadata = PageMetadata(title=title, author=author, published=published, lang=lang, site_name=None,
                            description=None, canonical_url=None)
    extraction = Extraction(text=text, lang=lang, metadata=metadata)
    document = build_document(url=url, final_url=url, fetched_at="2026-01-01T00:00:00+00:00", http_status=200,
                              batch="search-test", extraction=extraction)
    document["duplicate_of"] = duplicate_of
    return document


def index(client: Client, documents: list[dict[str, Any]]) -> None:
    """Write through readq's own bulk indexer, as the index stage does, then make the documents searchable."""
    indexer = BulkIndexer.from_settings(client.settings, client.runtime.es)
    try:
        for document in documents:
            indexer.write([({"index": {"_index": client.settings.pages_alias, "_id": document_id(document)}},
                            document)], timeout=30)
    finally:
        indexer.close()
    client.make_searchable()


HYPHENATED = (
    "<html><head><title>Die Bundes&shy;regierung plant Steuer&shy;entlastungen</title></head><body><article>"
    "<h1>Die Bundes&shy;regierung plant Steuer&shy;entlastungen</h1>"
    + "<p>Die Bundes&shy;regierung will kleine Betriebe mit Steuer&#173;entlastungen stützen. " + FILLER * 4
    + "</p></article></body></html>"
)


def hyphenated_page(url: str) -> dict[str, Any]:
    """A page whose headline and body hyphenate their long words with ``&shy;``, as German news sites do, built by
    the real extractor as the fetch stage builds it."""
    return dict(page_document(Extractor(min_text_chars=200), HYPHENATED.encode(), content_type="text/html",
                              url=url, final_url=url, fetched_at="2026-01-01T00:00:00+00:00", http_status=200,
                              batch="search-test"))


@pytest.fixture(scope="module")
def corpus(settings: Settings) -> Iterator[tuple[Client, str]]:
    """A small index of its own: a German, French, English, Spanish and Polish page, a German page with the parts of
    a compound (``Woche``, ``Rückblick``), a duplicate pair, dated pages and seven pages that share one word (for
    paging)."""
    prefix = f"{settings.index_prefix}-s{uuid.uuid4().hex[:6]}"
    tag = uuid.uuid4().hex[:8]
    base = f"http://search-{tag}.example"
    with Client(settings.model_copy(update={"index_prefix": prefix})) as client:
        client.install_templates()
        index(client, [
            page(f"{base}/de", "Wohnungsmarkt", "Die Häuser der Altstadt werden teurer. " + FILLER, "de",
                 published="2024-03-05", author="Anna Schmidt"),
            page(f"{base}/fr", "Camargue", "Les chevaux sauvages galopent dans les marais. " * 3, "fr",
                 published="2023-06-01"),
            page(f"{base}/en", "Morning", "She runs along the river every morning before work. " * 3, "en",
                 published="2022-01-10"),
            page(f"{base}/es", "Urbanismo", "Las ciudades españolas crecen deprisa cada año. " * 3, "es"),
            page(f"{base}/pl", "Stolica", "Mieszkańcy Warszawy narzekają na korki w centrum miasta. " * 3, "pl"),
            page(f"{base}/phrase-near", "Haushalt", "Der Bundestag beschließt den Haushalt für das nächste Jahr. "
                 + FILLER, "de"),
            page(f"{base}/phrase-far", "Haushalt", "Für das nächste Jahr plant der Bundestag, der im Herbst tagt, "
                 "einen neuen Haushalt und beschließt ihn. " + FILLER, "de"),
            page(f"{base}/parts", "Rückschau", "Jede Woche ein Blick zurück: der Rückblick auf das Geschehen. "
                 + FILLER, "de"),
            page(f"{base}/original", "Zugspitze Gletscher", "Der Gletscher auf der Zugspitze schmilzt. " + FILLER,
                 "de"),
            page(f"{base}/copy", "Zugspitze Gletscher (Kopie)", "Der Gletscher auf der Zugspitze schmilzt. "
                 + FILLER, "de", duplicate_of=f"{base}/original"),
            hyphenated_page(f"{base}/shy"),
            *(page(f"{base}/paged-{i}", f"Seite {i}", f"Quokka {i} " * (i + 1) + FILLER, "de",
                   published=f"2021-0{i + 1}-15") for i in range(7)),
        ])
        try:
            yield client, base
        finally:
            drop_indices(client)


@pytest.mark.parametrize(("query", "lang", "wanted"), [
    ("Haus", "de", "/de"), ("cheval", "fr", "/fr"), ("running", "en", "/en"), ("ciudad", "es", "/es"),
    ("Warszawa", "pl", "/pl"), ("Haus", None, "/de"), ("cheval", "all", "/fr"),
])
def test_an_inflected_query_finds_its_document(corpus: tuple[Client, str], query: str, lang: str | None,
                                               wanted: str) -> None:
    client, base = corpus
    results = client.search(query, lang=lang)

    assert [hit.url for hit in results][:1] == [base + wanted]
    assert "**" in results[0].snippet  # the inflected form is highlighted in the body


def test_the_standard_analyzer_alone_would_not_have_found_them(corpus: tuple[Client, str]) -> None:
    client, _ = corpus
    neutral = client.runtime.es.search(index=client.settings.pages_alias,
                                       query={"multi_match": {"query": "Haus cheval running ciudad Warszawa",
                                                              "fields": ["title", "text", "description"]}})
    assert neutral["hits"]["hits"] == []
    assert len(client.search("Haus cheval running ciudad Warszawa", lang="all")) == 5


def test_a_german_compound_finds_the_page_that_has_its_parts_only(corpus: tuple[Client, str]) -> None:
    client, base = corpus
    words = client.runtime.es.search(index=client.settings.pages_alias, query={"multi_match": {
        "query": "Wochenrückblick", "fields": ["text", "i18n.de.text"]}})

    assert words["hits"]["hits"] == []  # no page has the word, in any inflection
    assert [hit.url for hit in client.search("Wochenrückblick", lang="de")] == [f"{base}/parts"]
    assert len(client.search("Wochenrückblick", lang="en")) == 0  # English reads no compound parts


def test_a_word_hyphenated_on_its_page_is_found_as_typed(corpus: tuple[Client, str]) -> None:
    client, base = corpus
    for query in ("Steuerentlastungen", "title:Bundesregierung", "Bundes\u00adregierung Steuerentlastungen"):
        results = client.search(query, lang="de")
        assert [hit.url for hit in results] == [f"{base}/shy"], query
    assert results[0].title == "Die Bundesregierung plant Steuerentlastungen"


def test_a_phrase_query_finds_the_words_together_only(corpus: tuple[Client, str]) -> None:
    client, base = corpus
    phrase = client.search('"beschließt den Haushalt"', lang="de")
    words = client.search("beschließt Haushalt", lang="de")
    excluded_word = client.search("Haus -Altstadt", lang="de")
    excluded_phrase = client.search('Quokka -"Quokka 3"', lang="de", size=20)
    required = client.search("+Haus Morning", lang="all")

    assert [hit.url for hit in phrase] == [f"{base}/phrase-near"]
    assert len(excluded_word) == 0  # the only page with "Haus" has "Altstadt"
    assert excluded_phrase.total == 6 and f"{base}/paged-3" not in {hit.url for hit in excluded_phrase}
    assert [hit.url for hit in required] == [f"{base}/de"]  # not the English "Morning" page
    assert {f"{base}/phrase-near", f"{base}/phrase-far"} <= {hit.url for hit in words}
    assert words[0].url == f"{base}/phrase-near"  # the proximity boost


def test_field_queries(corpus: tuple[Client, str]) -> None:
    client, base = corpus
    in_title = client.search("title:Wohnungsmarkt")
    in_body_only = client.search("title:Altstadt")
    by_author = client.search('Haus author:"Anna Schmidt"', lang="de")
    by_site = client.search(f"Quokka site:{base.removeprefix('http://')}", lang="de", size=20)
    excluded = client.search("Quokka -title:Seite", lang="de")
    stray_operator = client.search("title:Wohnungsmarkt -")
    by_url = client.search(f"Quokka site:{base.upper()}:80/any/path", lang="de", size=20)

    assert [hit.url for hit in in_title] == [f"{base}/de"]
    assert in_title[0].highlights["title"] == "**Wohnungsmarkt**"
    assert len(in_body_only) == 0 and len(client.search("Altstadt")) == 1
    assert [hit.url for hit in by_author] == [f"{base}/de"]
    assert by_site.total == 7 and len(excluded) == 0
    assert [hit.url for hit in stray_operator] == [f"{base}/de"] and by_url.total == 7


def test_prefix_fuzzy_and_slop_operators_in_field_and_signed_terms_match_as_in_the_free_text(
        corpus: tuple[Client, str]) -> None:
    client, base = corpus
    urls = lambda query: sorted(hit.url for hit in client.search(query, lang="de", size=20))  # noqa: E731

    assert urls("title:Wohnungs*") == urls("Wohnungs*") == [f"{base}/de"]
    assert urls("+Gletsch* Quokka") == [f"{base}/original"]
    assert urls("Quokka Gletscher -Zugsp*") == sorted(f"{base}/paged-{i}" for i in range(7))
    assert urls("+Gletscer~1 Quokka") == urls("Gletscer~1") == [f"{base}/original"]
    sloppy = urls('Haushalt -"Bundestag Haushalt"~3')
    assert f"{base}/phrase-far" in sloppy and f"{base}/phrase-near" not in sloppy  # 2 words apart, not 6
    assert urls('title:"Gletscher Zugspitze"~2') == [f"{base}/original"]


def test_signs_in_groups_are_refused_and_after_a_bar_exclude(corpus: tuple[Client, str]) -> None:
    client, base = corpus

    assert len(client.search("Haus |-Altstadt", lang="de")) == 0  # the only page with "Haus" has "Altstadt"
    assert [hit.url for hit in client.search('"der Altstadt -werden"', lang="de")] == [f"{base}/de"]  # as typed
    assert client.search("Zugspitze - Gletscher", lang="de").total == 2  # a pasted title's dash negates nothing
    with pytest.raises(SearchQueryError, match="outside the parentheses"):
        client.search("Haus (-Altstadt | Camargue)", lang="de")
    with pytest.raises(SearchQueryError, match="one side of"):  # it found the pages with both titles: none
        client.search("title:Wohnungsmarkt | title:Camargue")
    refused = run(client, "search", "Haus (-Altstadt | Camargue)")
    assert refused.returncode == USAGE and "outside the parentheses" in refused.stderr


def test_a_site_with_a_leading_star_is_the_site_and_any_other_wildcard_is_refused(
        corpus: tuple[Client, str]) -> None:
    client, base = corpus
    host = base.removeprefix("http://")

    assert client.search(f"Quokka site:*.{host}", lang="de").total == 7
    with pytest.raises(SearchQueryError, match="not a host name"):
        client.search(f"Quokka site:{host[:-1]}?", lang="de")


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["Quokka", "Häus*", '"der Gletscher"', "+Zugsp*", "-Seit*", "Gletscer~1", "(a | b)",
                                 "title:Seit*", 'author:"Anna S*"', "site:*.example", "-lang:fr", "|", "-", "*", "~2",
                                 "(", ")", '"', "\\", 'title:"x y"~2', "+Quokka~", "Quok*a", "a+b", "a|-b", "?",
                                 "e-mail", "C++", "*x", "site:a_b.example", "Haus~3", "title:(a b)"]),
                min_size=1, max_size=6).map(" ".join))
def test_every_query_readq_accepts_is_a_search_elasticsearch_answers(corpus: tuple[Client, str], query: str) -> None:
    client, _ = corpus
    try:
        build_search(SearchRequest(query=query, languages=("de",)))
    except SearchQueryError:
        return  # refused before it is sent, with its reason
    client.search(query, lang="de")  # no "Elasticsearch refused the search"


def test_a_duplicate_pair_collapses_into_one_hit(corpus: tuple[Client, str]) -> None:
    client, base = corpus
    collapsed = client.search("Gletscher Zugspitze", lang="de")
    separate = client.search("Gletscher Zugspitze", lang="de", collapse=False)

    assert [(hit.url, hit.similar) for hit in collapsed] == [(f"{base}/original", 1)]
    assert {hit.url for hit in separate} == {f"{base}/original", f"{base}/copy"}
    assert all(hit.similar == 0 for hit in separate)


def test_a_date_range_bounds_the_publication_date(corpus: tuple[Client, str]) -> None:
    client, base = corpus
    urls = lambda **kw: {hit.url for hit in client.search("Quokka", lang="de", size=20, **kw)}  # noqa: E731

    assert urls(since=date(2021, 3, 15), until=date(2021, 5, 15)) == {f"{base}/paged-{i}" for i in (2, 3, 4)}
    assert urls(since=date(2021, 7, 1)) == {f"{base}/paged-6"}
    assert urls(until=date(2021, 1, 15)) == {f"{base}/paged-0"}


def test_paging_and_totals(corpus: tuple[Client, str]) -> None:
    client, base = corpus
    pages = [client.search("Quokka", lang="de", size=3, offset=offset) for offset in (0, 3, 6, 9)]

    assert [p.total for p in pages] == [7, 7, 7, 7]
    assert [len(p) for p in pages] == [3, 3, 1, 0]
    seen = [hit.url for p in pages for hit in p]
    assert sorted(seen) == sorted(f"{base}/paged-{i}" for i in range(7))
    scores = [hit.score for hit in seen_hits(pages)]
    assert scores == sorted(scores, reverse=True)


def seen_hits(pages: list[Any]) -> list[Any]:
    return [hit for p in pages for hit in p]


def test_readq_search_on_the_command_line(corpus: tuple[Client, str]) -> None:
    client, base = corpus
    as_json = run(client, "search", "Quokka", "--lang", "de", "--size", "2", "--from", "2", "--since", "2021-01-01",
                  "--json")
    human = run(client, "search", "Gletscher", "--lang", "de")
    bad_range = run(client, "search", "Quokka", "--since", "2024-02-01", "--until", "2024-01-01")
    bad_lang = run(client, "search", "Quokka", "--lang", "xx")
    secret_lang = run(client, "search", "Quokka", "--lang", "https://reader:s3cret@example.com")
    past_window = run(client, "search", "Quokka", "--from", "9995", "--json")
    last_day = run(client, "search", "Quokka", "--lang", "de", "--until", "9999-12-31", "--json")
    past_the_end = run(client, "search", "Quokka", "--lang", "de", "--from", "50")

    assert as_json.returncode == SUCCESS, as_json.stderr
    answer = json.loads(as_json.stdout)
    assert answer["total"] == 7 and answer["offset"] == 2 and len(answer["hits"]) == 2
    assert answer["languages"] == ["de"]
    assert human.returncode == SUCCESS and "(and 1 similar)" in human.stdout and f"{base}/original" in human.stdout
    assert bad_range.returncode == USAGE and "after --until" in bad_range.stderr
    assert bad_lang.returncode == USAGE and "no analyzer for language(s) xx" in bad_lang.stderr
    assert secret_lang.returncode == USAGE and "s3cret" not in secret_lang.stderr and "***@" in secret_lang.stderr
    assert past_window.returncode == USAGE and "10,000" in past_window.stderr and past_window.stdout == ""
    assert last_day.returncode == SUCCESS, last_day.stderr
    assert json.loads(last_day.stdout)["total"] == 7
    assert past_the_end.returncode == PARTIAL and "7 matching documents, none from 51 on" in past_the_end.stderr


def test_a_search_elasticsearch_refuses_is_a_query_error_not_a_crash(idle: Client) -> None:
    """A limit of the cluster's own that the request builder cannot know: here a smaller result window."""
    idle.runtime.es.indices.put_settings(index=idle.settings.pages_alias, settings={"max_result_window": 5})

    with pytest.raises(SearchQueryError, match="Result window is too large"):
        idle.search("Haus", lang="de", size=5, offset=3)


# --- migration ------------------------------------------------------------------------------------------------------

FORMER_MAPPING = {"dynamic": False, "properties": {
    "url": {"type": "keyword"}, "title": {"type": "text"}, "text": {"type": "text"}, "lang": {"type": "keyword"},
    "description": {"type": "text"}, "published": {"type": "date"}, "duplicate_of": {"type": "keyword"},
}}


@pytest.fixture
def former_install(settings: Settings) -> Iterator[Client]:
    """An installation made by the former readq: ``{alias}-000001`` of the standard-analyzer mapping, no pipeline,
    holding three documents."""
    prefix = f"{settings.index_prefix}-m{uuid.uuid4().hex[:6]}"
    with Client(settings.model_copy(update={"index_prefix": prefix})) as client:
        es, alias = client.runtime.es, client.settings.pages_alias
        es.indices.create(index=f"{alias}-000001", mappings=FORMER_MAPPING,
                          aliases={alias: {"is_write_index": True}})
        for i, (title, text, lang) in enumerate([("Häuser", "Die Häuser der Stadt. " * 5, "de"),
                                                 ("Chevaux", "Les chevaux sauvages. " * 5, "fr"),
                                                 ("Runs", "She runs every day. " * 5, "en")]):
            es.index(index=alias, id=f"doc-{i}", document={"url": f"http://m.example/{i}", "title": title,
                                                           "text": text, "lang": lang})
        es.indices.refresh(index=alias)
        try:
            yield client
        finally:
            drop_indices(client)


def written_meanwhile(client: Client) -> None:
    """What a worker does while the copy runs: a new page and a changed one, both into the old index."""
    es, alias = client.runtime.es, client.settings.pages_alias
    es.index(index=alias, id="doc-new", document={"url": "http://m.example/new", "title": "Ciudades",
                                                  "text": "Las ciudades crecen. " * 5, "lang": "es"})
    es.index(index=alias, id="doc-0", document={"url": "http://m.example/0", "title": "Häuser",
                                                "text": "Die Häuser der Altstadt, geändert. " * 5, "lang": "de"})


def assert_migrated(client: Client) -> None:
    es, alias = client.runtime.es, client.settings.pages_alias
    es.indices.refresh(index=alias)
    assert write_index(es, alias) == f"{alias}-000002"
    assert index_versions(es, alias) == {f"{alias}-000002": mapping_version("pages")}  # the old index is gone
    assert es.count(index=alias)["count"] == 4
    assert "Altstadt" in es.get(index=alias, id="doc-0")["_source"]["text"]  # the change made during the copy
    for query, lang, url in [("Haus", "de", "http://m.example/0"), ("cheval", "fr", "http://m.example/1"),
                             ("ciudad", "es", "http://m.example/new")]:
        assert [hit.url for hit in client.search(query, lang=lang)] == [url]


def test_setup_migrate_moves_the_documents_to_a_new_index_behind_the_alias(former_install: Client) -> None:
    client = former_install
    assert client.search("Haus", lang="de").hits == []  # the former mapping knows no German
    steps: list[str] = []

    def on_step(name: str, detail: str) -> None:
        steps.append(name)
        if name == "swap":  # the copy is done, the alias not yet moved: writes still land in the old index
            written_meanwhile(client)
        # between the steps the alias always names exactly one index, so readers never see a gap
        assert len(client.runtime.es.indices.get_alias(name=client.settings.pages_alias).body) == 1

    migration = client.migrate(on_step=on_step)

    assert steps == ["create", "copy", "swap", "catch-up", "delete"]
    assert migration is not None and migration.target.endswith("-000002") and migration.copied == 5
    assert_migrated(client)
    assert client.migrate() is None  # nothing left to do
    again = run(client, "setup", "--migrate", "--json")
    assert again.returncode == SUCCESS and json.loads(again.stdout) == {"migration": None}


@pytest.mark.parametrize("crash_at", ["create", "copy", "swap", "catch-up", "delete"])
def test_a_migration_that_crashed_at_any_step_finishes_when_run_again(former_install: Client,
                                                                      crash_at: str) -> None:
    client = former_install

    def on_step(name: str, detail: str) -> None:
        if name == "swap":
            written_meanwhile(client)
        if name == crash_at:
            raise RuntimeError(f"crash before {name}")

    with pytest.raises(RuntimeError, match=f"crash before {crash_at}"):
        client.migrate(on_step=on_step)
    if crash_at in ("create", "copy"):  # the crash came before the swap, so the writes still land in the old index
        written_meanwhile(client)
    finished = run(client, "setup", "--migrate", "--json")

    assert finished.returncode == SUCCESS, finished.stderr
    assert_migrated(client)
