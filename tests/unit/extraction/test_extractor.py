"""The extractor against hand-written real-world-like pages (tests/fixtures/pages, expectations in expected.json)."""

from __future__ import annotations

import json
import time
import unicodedata
from pathlib import Path

import pytest

from benchmarks.extraction import contains_markup
from workers.errors import NoReadableContent, UnsupportedContentType
from workers.extraction.decoding import decode_html
from workers.extraction.extractor import Extraction, Extractor, prose_chars
from workers.extraction.parsing import flatten

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"
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
@pytest.mark.parametrize("field", ["title", "author", "site_name", "canonical_url"])
def test_metadata_field(extractions: dict[str, Extraction], name: str, field: str) -> None:
    assert getattr(extractions[name].metadata, field) == EXPECTED[name][field]


@pytest.mark.parametrize("name", ARTICLES)
def test_language(extractions: dict[str, Extraction], name: str) -> None:
    assert extractions[name].lang == EXPECTED[name]["lang"]


@pytest.mark.parametrize("name", ARTICLES)
def test_published_date(extractions: dict[str, Extraction], name: str) -> None:
    published = extractions[name].metadata.published
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
    assert _normalise(EXPECTED[name]["with"][0]) in text  # dropped around the article, not with it


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


# --- Robustness: generated inputs that must give a document or a clear NoReadableContent, quickly -----------------

STORY = (
    "The harbour committee approved the new ferry timetable on Tuesday evening after a long debate about "
    "the winter crossings. "
)


def _page(body: str, head: str = "<title>Ferry timetable</title>") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


ENCODED_PAGES = [
    ("windows-1251", "Комитет гавани одобрил новое расписание паромов во вторник вечером после долгих споров. "),
    ("koi8-r", "Комитет гавани одобрил новое расписание паромов во вторник вечером после долгих споров. "),
    ("iso-8859-2", "Komisja portowa zatwierdziła we wtorek wieczorem nowy rozkład promów po długiej dyskusji. "),
    ("shift_jis", "港湾委員会は長い議論の末、火曜日の夜に新しいフェリーの時刻表を承認しました。"
                  "冬の運航についても話し合われました。"),
    ("gb18030", "港口委员会在经过长时间的辩论后，于星期二晚上批准了新的渡轮时刻表，并讨论了冬季航班的安排。"),
    ("iso-8859-7", "Η λιμενική επιτροπή ενέκρινε το νέο δρομολόγιο των πορθμείων την Τρίτη το βράδυ "
                   "μετά από συζήτηση. "),
    ("utf-16", "Der Hafenausschuss hat am Dienstagabend nach langer Debatte den neuen Fährfahrplan beschlossen. "),
]


@pytest.mark.parametrize(("encoding", "sentence"), ENCODED_PAGES, ids=[e for e, _ in ENCODED_PAGES])
@pytest.mark.parametrize("declared", [True, False], ids=["declared", "detected"])
def test_any_encoding_decodes_and_extracts(encoding: str, sentence: str, declared: bool) -> None:
    declare = declared and encoding != "utf-16"  # UTF-16 announces itself with its byte order mark
    head = f'<meta charset="{encoding}"><title>Ferry</title>' if declare else "<title>Ferry</title>"
    body = _page("".join(f"<p>{sentence * 3}</p>" for _ in range(3)), head).encode(encoding)
    extraction = Extractor(min_text_chars=200).extract(decode_html(body, None), BASE_URL)
    assert sentence.strip() in _normalise(extraction.text)


@pytest.mark.parametrize("html", [
    "<<<>>>&&&",
    "<html><head><title>Only a title</title></head></html>",
    "<!-- nothing but a comment -->",
    f"<script>{STORY * 5}</script>",
    "<frameset><frame src='a.html'></frameset>",
    "<html><body><div><div><span></span></div></div></body></html>",
], ids=["garbage", "head-only", "comment", "script-only", "frameset", "empty-divs"])
def test_page_without_text_is_refused_with_a_reason(html: str) -> None:
    with pytest.raises(NoReadableContent, match=r"prose|empty|parseable"):
        Extractor(min_text_chars=200).extract(html, BASE_URL)


@pytest.mark.parametrize("html", [
    f"<html><body><p>unclosed <b>bold <i>{STORY * 3}</div></span></td>",
    f"\x00\x01\x0b control characters {STORY * 3}\ud800",
    f'<?xml version="1.0" encoding="iso-8859-1"?><html><body><p>{STORY * 3}</p></body></html>',
    f"<html><head><title>No body</title></head><p>{STORY * 3}</p></html>",
    f"<p>{STORY * 3}",
], ids=["broken-tags", "control-characters", "xml-declaration", "no-body-tag", "bare-fragment"])
def test_broken_html_still_gives_its_text(html: str) -> None:
    extraction = Extractor(min_text_chars=200).extract(html, BASE_URL)
    assert STORY.strip() in _normalise(extraction.text)


def test_ten_thousand_levels_of_nesting_keep_their_text() -> None:
    deep = "<div>" * 10_000 + f"<p>{STORY * 4}</p>" + "</div>" * 10_000
    started = time.process_time()  # CPU time: other jobs on the machine do not count
    extraction = Extractor(min_text_chars=200).extract(_page(deep), BASE_URL)
    assert STORY.strip() in _normalise(extraction.text)
    assert time.process_time() - started < 10


def test_five_megabyte_page_is_extracted_in_bounded_time() -> None:
    article = "".join(f"<p>{STORY}{i}</p>" for i in range(30))
    filler = "".join(f'<div class="teaser"><a href="/story/{i}">Another story number {i}</a></div>'
                     for i in range(66_000))
    html = _page(f"<article>{article}</article>{filler}")
    assert len(html.encode("utf-8")) > 5_000_000
    started = time.process_time()  # CPU time: other jobs on the machine do not count
    extraction = Extractor(min_text_chars=200).extract(html, BASE_URL)
    assert f"{STORY.strip()} 29" in _normalise(extraction.text)
    assert time.process_time() - started < 30


def test_flatten_keeps_text_and_caps_depth() -> None:
    html = "<div>" * 50 + "deep" + "</div>" * 50 + "<br><p>after</p>"
    flat = flatten(html, 10)
    assert flat.count("<div>") == 10 and flat.count("</div>") == 10
    assert "deep" in flat and "<br><p>after</p>" in flat


def test_navigation_comments_and_share_bars_are_dropped() -> None:
    html = _page(
        '<nav><a href="/">Home</a> <a href="/news">News</a></nav>'
        f"<article><h1>Ferry timetable</h1><p>{STORY * 3}</p>"
        '<div class="share-bar">Share this on every network you know of</div></article>'
        '<section id="comments"><p>First comment from a reader who disagrees with every word here.</p></section>'
        '<div style="display: none">Hidden promotional text that nobody can see on the page.</div>'
    )
    text = _normalise(Extractor(min_text_chars=200).extract(html, BASE_URL).text)
    assert STORY.strip() in text
    for boilerplate in ("Home News", "Share this", "First comment", "Hidden promotional"):
        assert boilerplate not in text


def test_related_links_after_the_article_are_pruned() -> None:
    related = "".join(f'<li><a href="/s/{i}">Related headline number {i} about ferries</a></li>' for i in range(8))
    html = _page(f'<div class="entry-content"><p>{STORY * 3}</p><h3>More on this</h3><ul>{related}</ul></div>')
    text = _normalise(Extractor(min_text_chars=200).extract(html, BASE_URL).text)
    assert STORY.strip() in text
    assert "Related headline" not in text and "More on this" not in text


@pytest.mark.parametrize("name", ARTICLES)
def test_extracted_text_holds_no_markup(extractions: dict[str, Extraction], name: str) -> None:
    text = extractions[name].text
    assert EXPECTED[name]["with"][0].split()[0] in text
    assert not contains_markup(text), text


SHY_PAGE = (
    "<html><head><title>Die Bundes&shy;regierung plant neue Steuer\u00adregeln</title>"
    '<meta name="description" content="Was die Bundes\u00adregierung plant"></head><body><article>'
    "<h1>Die Bundes&shy;regierung plant neue Steuer&#173;regeln</h1>"
    "<p>Die Bundes&shy;regierung hat am Dienstag einen Entwurf f\u0075\u0308r neue Steuer&#xAD;regeln vorgelegt, "
    "der kleine Betriebe entlasten soll. Die Opposition spricht von einem Wahlgeschenk, die Verb\u0061\u0308nde "
    "begr\u0075\u0308\u00dfen die Vorschl\u0061\u0308ge und fordern schnelle Beratungen im Bundestag.</p>"
    "<p>Im Herbst soll das Gesetz in Kraft treten, wenn der Bundesrat zustimmt; bis dahin bleiben die alten "
    "Regeln gültig, und die Finanzämter rechnen mit vielen Rückfragen.</p></article></body></html>"
)


def test_text_and_metadata_read_as_shown() -> None:
    """A soft hyphen (character or entity) would stay inside the indexed word, and decomposed letters would not
    match a query's composed ones: the text and the metadata come out as a reader sees them, in NFC."""
    extraction = Extractor(min_text_chars=200).extract(SHY_PAGE, BASE_URL)
    fields = {"text": extraction.text, "title": extraction.metadata.title,
              "description": extraction.metadata.description}
    assert "Bundesregierung hat am Dienstag" in extraction.text
    assert "Steuerregeln vorgelegt" in extraction.text
    assert "für neue" in extraction.text and "Verbände begrüßen die Vorschläge" in extraction.text
    assert extraction.metadata.title == "Die Bundesregierung plant neue Steuerregeln"
    assert extraction.metadata.description == "Was die Bundesregierung plant"
    for name, value in fields.items():
        assert value and "\u00ad" not in value and unicodedata.is_normalized("NFC", value), name
