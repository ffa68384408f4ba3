"""The extraction benchmark's scorer, on hand-made examples with hand-counted results (no corpus needed)."""

from __future__ import annotations

import pytest

from benchmarks.extraction import (
    Counts,
    ShingleScore,
    base_url,
    contains_markup,
    count_snippets,
    date_part,
    f1,
    metadata_match,
    normalise,
    percentile,
    precision,
    recall,
    score_shingles,
    shingle_f1,
    shingles,
)


def test_normalise_folds_every_whitespace_run() -> None:
    assert normalise("  a\tb \n\n c\u00a0 ") == "a b c"


def test_snippets_match_as_read() -> None:
    """A label copied in the page's decomposed letters or with its soft hyphens is the text a reader sees, which
    a composed, unhyphenated extraction has; a different word still misses."""
    text = "Die H\u00e4user der Bundesregierung"
    counts = count_snippets(text, ["Ha\u0308user", "Bundes\u00adregierung", "Hauser"], [])
    assert counts == Counts(tp=2, fp=0, fn=1)
    assert metadata_match("Welt\u00adern\u00e4hrung", "Welterna\u0308hrung")


def test_snippets_match_across_whitespace_differences() -> None:
    text = "The ferry leaves\n at  eight.\nShare this article"
    counts = count_snippets(text, ["ferry leaves at eight", "last boat"], ["Share this", "Cookie settings"])
    assert counts == Counts(tp=1, fp=1, fn=1)


def test_failed_extraction_misses_every_snippet() -> None:
    assert count_snippets(None, ["a", "b", "c"], ["x"]) == Counts(tp=0, fp=0, fn=3)
    assert count_snippets("", ["a"], [""]) == Counts(tp=0, fp=0, fn=1)


def test_counts_are_summed_before_the_ratios() -> None:
    total = Counts(tp=3, fp=0, fn=0) + Counts(tp=1, fp=2, fn=2)  # tp=4 fp=2 fn=2
    assert total == Counts(4, 2, 2)
    assert precision(total) == pytest.approx(4 / 6)
    assert recall(total) == pytest.approx(4 / 6)
    assert f1(total) == pytest.approx(8 / 12)


def test_empty_counts_do_not_divide_by_zero() -> None:
    assert precision(Counts()) == 0.0 and recall(Counts()) == 0.0
    assert f1(Counts()) == 1.0  # nothing to find and nothing leaked


@pytest.mark.parametrize(("expected", "got", "match"), [
    ("Ferry  timetable", "Ferry timetable", True),
    ("Ferry timetable", "ferry timetable", False),
    ("", None, True),
    ("", "", True),
    ("", "Someone", False),
    ("Someone", None, False),
    (["Ann Lee", "Bo Yu"], "Ann Lee, Bo Yu", True),
    (["Ann Lee", "Bo Yu"], "Ann Lee; Bo Yu", True),
    (["Ann Lee", "Bo Yu"], "Ann Lee", False),
])
def test_metadata_match(expected: str | list[str], got: str | None, match: bool) -> None:
    assert metadata_match(expected, got) is match


def test_date_part_and_base_url() -> None:
    assert date_part("2020-07-07T10:00:00+00:00") == "2020-07-07"
    assert date_part(None) is None
    assert base_url("https://example.com/a?b=1") == "https://example.com/a?b=1"
    assert base_url("hard::domain-x.html") == "http://domain-x.html"


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 0.9) == 9.0
    assert percentile(values, 0.5) == 5.0
    assert percentile([3.0], 0.9) == 3.0


def test_shingles_are_four_word_windows_counted_with_multiplicity() -> None:
    assert shingles("a b c d e") == {("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1}
    assert shingles("x y z w x y z w")[("x", "y", "z", "w")] == 2
    assert shingles("only two") == {("only", "two"): 1}  # fewer words than a shingle: one shorter shingle
    assert shingles("") == {} and shingles(None) == {}


def test_shingle_score_is_normalised_per_page() -> None:
    # truth: 1 2 3 4 5 6 -> (1234) (2345) (3456); extraction: 3 4 5 6 7 -> (3456) (4567)
    score = score_shingles("1 2 3 4 5 6", "3, 4; 5 6 7")
    assert score == ShingleScore(tp=pytest.approx(1 / 4), fp=pytest.approx(1 / 4), fn=pytest.approx(2 / 4))
    assert score.precision == pytest.approx(1 / 2) and score.recall == pytest.approx(1 / 3)


def test_empty_extraction_has_no_precision_and_zero_recall() -> None:
    score = score_shingles("the whole article text here", None)
    assert score.precision is None and score.recall == 0.0
    assert score_shingles("same words in both", "same words in both").precision == 1.0


def test_shingle_f1_averages_precision_and_recall_over_pages_then_combines() -> None:
    perfect = score_shingles("a b c d e", "a b c d e")
    half = score_shingles("1 2 3 4 5 6", "3 4 5 6 7")  # P 1/2, R 1/3
    failed = score_shingles("p q r s t", "")  # counts for recall only
    p, r, f = shingle_f1([perfect, half, failed])
    assert p == pytest.approx((1 + 1 / 2) / 2)
    assert r == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert f == pytest.approx(2 * p * r / (p + r))


@pytest.mark.parametrize(("text", "markup"), [
    ('See <img src="/a.jpg" alt="x"> here', True),
    ("Broken </title> left", True),
    ("a comment <!-- ad slot --> here", True),
    ("an entity &amp;nbsp; escaped twice: &nbsp;", True),
    ("branch format <year>.<month>, File \"<stdin>\"", False),
    ("1 < 2 and 3 > 2, AT&T", False),
    (None, False),
])
def test_contains_markup(text: str | None, markup: bool) -> None:
    assert contains_markup(text) is markup
