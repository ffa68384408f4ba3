"""The extractor against hand-written real-world-like pages (tests/fixtures/pages, expectations in expected.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workers.decoding import decode_html
from workers.errors import NoReadableContent, UnsupportedContentType
from workers.extractor import Extraction, Extractor, prose_chars

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
EXPECTED: dict[str, dict] = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))
BASE_URL = "http://news.example.test/article"

ARTICLES = sorted(name for name, exp in EXPECTED.items() if not exp.get("no_readable_content"))
NON_ARTICLES = sorted(name for name, exp in EXPECTED.items() if exp.get("no_readable_content"))

def _normalise(text: str) -> str:
    return " ".join(text.split())


def _extract_fixture(name: str) -> Extraction:
    html = decode_html((PAGES / name).read_bytes(), None)
    return Extractor(min_text_chars=200).extract(html, BASE_URL)


@pytest.fixture(scope="module")
def extractions() -> dict[str, Extraction]:
    return {name: _extract_fixture(name) for name in ARTICLES}


def test_fixture_set_is_complete() -> None:
    on_disk = {path.name for path in PAGES.glob("*.html")}
    assert on_disk == set(EXPECTED)
    assert len(ARTICLES) == 4 and len(NON_ARTICLES) == 2


@pytest.mark.parametrize("name", ARTICLES)
@pytest.mark.parametrize("field", ["title", "author", "lang", "site_name", "canonical_url"])
def test_metadata_field(extractions: dict[str, Extraction], name: str, field: str) -> None:
    assert getattr(extractions[name], field) == EXPECTED[name][field]


@pytest.mark.parametrize("name", ARTICLES)
def test_published_date(extractions: dict[str, Extraction], name: str) -> None:
    published = extractions[name].published
    assert published is not None
    assert published[:10] == EXPECTED[name]["published_date"]


@pytest.mark.parametrize("name", ARTICLES)
def test_main_text_is_kept(extractions: dict[str, Extraction], name: str) -> None:
    text = _normalise(extractions[name].text)
    missing = [snippet for snippet in EXPECTED[name]["with"] if _normalise(snippet) not in text]
    assert not missing


@pytest.mark.parametrize("name", ARTICLES)
def test_boilerplate_is_dropped(extractions: dict[str, Extraction], name: str) -> None:
    text = _normalise(extractions[name].text)
    leaked = [snippet for snippet in EXPECTED[name]["without"] if _normalise(snippet) in text]
    assert not leaked


@pytest.mark.parametrize("name", NON_ARTICLES)
def test_page_without_article_is_refused(name: str) -> None:
    html = decode_html((PAGES / name).read_bytes(), None)
    with pytest.raises(NoReadableContent):
        Extractor(min_text_chars=200).extract(html, BASE_URL)


def test_latin1_fixture_is_really_latin1() -> None:
    raw = (PAGES / "news-fr-latin1.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "é".encode("latin-1") in raw and b'charset=iso-8859-1"' in raw


def test_empty_input_is_refused() -> None:
    with pytest.raises(NoReadableContent):
        Extractor(min_text_chars=200).extract("", BASE_URL)


def test_whitespace_only_input_is_refused() -> None:
    with pytest.raises(NoReadableContent):
        Extractor(min_text_chars=200).extract("  \n\t ", BASE_URL)


def test_fragment_without_body_still_extracts() -> None:
    sentence = (
        "The ferry timetable changes on the first Monday of October, when the evening crossing moves "
        "forty minutes earlier and the last boat back from the island leaves at half past eight."
    )
    html = f"<p>{sentence} {sentence} {sentence}</p>"
    extraction = Extractor(min_text_chars=200).extract(html, BASE_URL)
    assert sentence in _normalise(extraction.text)


CP1252_PAGE = (
    "<html><head><title>Le café de la gare rouvre ses portes</title></head><body>\n"
    "<h1>Le café de la gare rouvre ses portes</h1>\n"
    "<p>Après deux années de travaux, le café de la gare a rouvert à la fin du mois. "
    "Le gérant, François, a gardé le comptoir d\u2019origine et la façade en briques.</p>\n"
    "<p>« C\u2019est un lieu où tout le monde se croise », explique-t-il. Le menu du midi coûte 14 € "
    "et change chaque semaine \u2013 crêpes, quiches et tartes à la crème fraîche.</p>\n"
    "</body></html>"
)


@pytest.mark.parametrize("content_type", [None, "text/html"])
def test_undeclared_cp1252_is_detected(content_type: str | None) -> None:
    body = CP1252_PAGE.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = decode_html(body, content_type)
    for word in ("café", "Après", "à la fin", "François", "façade", "d\u2019origine", "14 €", "crème", "où"):
        assert word in text
    assert text == CP1252_PAGE


def test_binary_body_served_as_html_is_rejected() -> None:
    with pytest.raises(UnsupportedContentType):
        decode_html(bytes(range(256)) * 50, "text/html")


def test_prose_counts_sentences_not_labels() -> None:
    credits = "\n".join(["J. Okafor", "R. Alvarez", "12 photos", "× ‹ ›"] * 20)
    sentence = "The harbour committee approved the new ferry timetable on Tuesday evening."
    assert prose_chars(credits) == 0
    assert prose_chars(f"{credits}\n{sentence}") == len(sentence)
    chinese = "政府在星期二批准了新的渡轮时刻表，并计划在下个月开始实施这项新的运输安排。以及更多的内容在这里。"
    assert prose_chars(chinese) == len(chinese)
