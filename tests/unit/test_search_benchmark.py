"""benchmarks/search.py: its scoring and query selection (pure functions; the benchmark itself needs a corpus)."""

from __future__ import annotations

import pytest
from elasticsearch import ConnectionTimeout

from benchmarks.search import (
    known_items,
    per_language,
    per_language_items,
    percentile,
    reciprocal_rank,
    run_queries,
    summarise,
    title_words,
    without_title,
)


def test_reciprocal_rank_counts_the_first_ten_only() -> None:
    ranked = [f"u{i}" for i in range(12)]
    assert reciprocal_rank(ranked, "u0") == 1.0
    assert reciprocal_rank(ranked, "u3") == 0.25
    assert reciprocal_rank(ranked, "u10") == 0.0 and reciprocal_rank([], "u0") == 0.0


def test_known_items_are_titles_of_two_words_or_more_that_no_other_page_shares() -> None:
    documents = [
        {"url": "a", "title": "Neue Häuser", "text": "x", "lang": "de"},
        {"url": "b", "title": "Single", "text": "x", "lang": "en"},
        {"url": "c", "title": "Same  Title", "text": "x", "lang": "en"},
        {"url": "d", "title": "same title", "text": "y", "lang": "en"},
        {"url": "e", "title": "No Body", "text": "", "lang": "fr"},
    ]
    assert known_items(documents) == [("Neue Häuser", "a", "de")]


def test_a_query_is_the_titles_words_without_search_syntax() -> None:
    assert title_words('"La Corte no imparte justicia"') == "La Corte no imparte justicia"
    assert title_words("Wir sind weg (und der Titel!) -jetzt | gleich* ~") == "Wir sind weg und der Titel! jetzt gleich"
    # A sign after a parenthesis starts a word once the parenthesis is gone: it would exclude the title's own word
    assert title_words("CME Bitcoin (BTC)-Futures-Börse") == "CME Bitcoin BTC Futures-Börse"
    assert title_words('Wahl ("Umfrage")+Ergebnis |-Nachlese') == "Wahl Umfrage Ergebnis Nachlese"
    kept = "Guinée-Conakry: «Les privatisations» d’intérêts"  # no syntax: hyphens inside words, guillemets
    assert title_words(kept) == kept


def test_the_title_is_taken_out_of_its_body_in_any_case_and_spacing() -> None:
    text = "Neue Häuser in  Berlin. Die neue häuser\nIN berlin sind teuer. Berliner Häuser bleiben."
    assert without_title(text, "Neue Häuser in Berlin") == " . Die   sind teuer. Berliner Häuser bleiben."
    assert without_title("a.b c axb", "a.b") == "  c axb" and without_title("abc", "") == "abc"  # no regex dots


def test_per_language_keeps_the_first_documents_by_url() -> None:
    documents = [{"url": u, "lang": lang} for u, lang in [("3", "de"), ("1", "de"), ("2", "de"), ("0", None)]]
    assert [d["url"] for d in per_language(documents, 2)] == ["0", "1", "2"]


def test_every_known_item_is_a_query_unless_a_limit_is_given() -> None:
    items = [("q1", "a", "de"), ("q2", "b", "de"), ("q3", "c", "en")]
    assert per_language_items(items, None) == items
    assert per_language_items(items, 1) == [("q1", "a", "de"), ("q3", "c", "en")]


def test_summary_and_percentiles() -> None:
    table = summarise({"s": [("de", 1.0), ("de", 0.0), ("en", 0.5)]}, ["de", "en"])
    assert table["de"]["s"] == {"queries": 2, "mrr@10": 0.5, "recall@10": 0.5}
    assert table["all"]["s"]["queries"] == 3 and table["all"]["s"]["recall@10"] == 0.6667
    assert percentile([5.0, 1.0, 3.0], 0.5) == 3.0 and percentile([], 0.95) == 0.0


def test_a_query_that_times_out_is_asked_again_and_counted_until_the_attempts_run_out() -> None:
    timeouts = {"slow": 1, "stuck": 3}

    def ranker(query: str, lang: str) -> list[str]:
        if timeouts.get(query, 0) > 0:
            timeouts[query] -= 1
            raise ConnectionTimeout("paused")
        return [f"{query}-page"]

    ranks, latencies, retries = run_queries([("fast", "fast-page", "de"), ("slow", "slow-page", "en")], ranker)
    assert ranks == [("de", 1.0), ("en", 1.0)] and len(latencies) == 2 and retries == 1
    with pytest.raises(ConnectionTimeout):
        run_queries([("stuck", "stuck-page", "de")], ranker, attempts=3)
