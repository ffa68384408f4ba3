"""The extraction rules one by one, each on a small hand-written page."""

from __future__ import annotations

import warnings

import lxml.html
import pytest
from htmldate import extractors as htmldate_extractors
from readability import Document

from workers.errors import NoReadableContent
from workers.extraction import dates
from workers.extraction.article import (
    CleanedDocument,
    _around,
    cut_comments,
    drop_calls_to_action,
    find_marked_lead,
    prune,
    trim_edges,
)
from workers.extraction.cleaning import clean_tree
from workers.extraction.dates import WIDESPREAD_LANGUAGES
from workers.extraction.extractor import Extractor
from workers.extraction.metadata import read_metadata
from workers.extraction.parsing import parse_html
from workers.extraction.text import layout_text, strip_markup

BASE_URL = "http://news.example.test/2024/05/ferry"
STORY = (
    "The harbour committee approved the new ferry timetable on Tuesday evening after a long debate about "
    "the winter crossings. "
)
OTHER = "Passengers will find the printed timetables at every pier and in the harbour office from Monday on. "


def _page(body: str, head: str = "<title>Ferry timetable</title>") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def _text(html: str) -> str:
    return " ".join(Extractor(min_text_chars=200).extract(html, BASE_URL).text.split())


def _cleaned(body: str, title: str | None = None) -> str:
    tree = parse_html(_page(body))
    clean_tree(tree, title)
    return " ".join(tree.text_content().split())


# --- text layout ---------------------------------------------------------------------------------------------------

def test_inline_markup_adds_no_space() -> None:
    element = lxml.html.fragment_fromstring("<p>The <abbr title='Effizienzhaus'>EH</abbr>55 grant<b>s</b> end.</p>")
    assert layout_text(element) == "The EH55 grants end."


def test_blocks_get_lines_paragraphs_blank_lines_cells_spaces() -> None:
    element = lxml.html.fragment_fromstring(
        "<div><h2>Title</h2><p>First\n  paragraph</p><div>a line</div><div>next<br>after</div>"
        "<ul><li>one</li><li>two</li></ul><table><tr><td>cell</td><td>two</td></tr><tr><td>row</td></tr></table>"
        "<pre>x = 1\ny = 2</pre></div>")
    assert layout_text(element) == ("Title\n\nFirst paragraph\n\na line\nnext\nafter\n\none\ntwo\n\n"
                                    "cell two\nrow\n\nx = 1\ny = 2")


# --- cleaning ------------------------------------------------------------------------------------------------------

def test_unclosed_nav_that_swallows_the_page_is_kept() -> None:
    text = _cleaned(f'<nav class="navbar"><a href="/">Home</a> <div><h1>Ferry</h1><p>{STORY * 4}</p></div>')
    assert STORY.strip() in text


def test_small_nav_is_still_dropped() -> None:
    text = _cleaned(f'<nav><a href="/">Home</a> <a href="/news">News</a></nav><p>{STORY * 4}</p>')
    assert "Home" not in text and STORY.strip() in text


def test_layout_wrapper_named_sidebar_around_the_headline_is_kept() -> None:
    body = (f'<div class="post-wrap has-sidebar-right"><h1>Ferry timetable approved</h1><p>{STORY}</p></div>'
            f"<div>{OTHER * 6}</div>")
    assert STORY.strip() in _cleaned(body, "Ferry timetable approved")
    without_the_headline = _cleaned(body, None)
    assert STORY.strip() not in without_the_headline and OTHER.strip() in without_the_headline


def test_layout_wrapper_named_sidebar_around_one_article_is_kept() -> None:
    body = f'<div class="wrap sidebar-right"><article><p>{STORY}</p></article></div><div>{OTHER * 6}</div>'
    assert STORY.strip() in _cleaned(body)


def test_teaser_list_of_small_articles_is_still_dropped() -> None:
    teasers = "".join(f"<article><p>Teaser {i} about something else entirely.</p></article>" for i in range(4))
    body = f'<div class="related">{teasers}</div><div>{STORY * 8}</div>'
    text = _cleaned(body)
    assert "Teaser 1" not in text and STORY.strip() in text


def test_ruby_annotations_are_dropped_and_their_base_text_kept() -> None:
    line = "<p><ruby>子<rp>(</rp><rt>こ</rt><rp>)</rp></ruby>どもへの<ruby>体罰<rt>たいばつ</rt></ruby></p>"
    assert _cleaned(line).endswith("子どもへの体罰")


@pytest.mark.parametrize("caption", ['<figcaption>Photo: Ann Lee</figcaption>',
                                     '<div class="wp-caption-text">Photo: Ann Lee</div>'])
def test_image_captions_are_dropped(caption: str) -> None:
    text = _cleaned(f"<figure><img src='a.jpg'>{caption}</figure><p>{STORY * 4}</p>")
    assert "Ann Lee" not in text and STORY.strip() in text


def test_long_caption_class_is_kept() -> None:
    text = _cleaned(f'<div class="item-caption"><p>{STORY * 4}</p></div><p>{OTHER}</p>')
    assert STORY.strip() in text


@pytest.mark.parametrize("word", ["widget widget_text", "outbrain", "most-popular", "rating", "author-bio",
                                  "entry-meta", "post-footer", "product--buybox"])
def test_more_furniture_words_are_dropped(word: str) -> None:
    text = _cleaned(f'<div class="{word}">Trending now: something else</div><p>{STORY * 4}</p>')
    assert "Trending" not in text and STORY.strip() in text


def test_page_builder_widget_wrappers_are_kept() -> None:
    text = _cleaned(f'<div class="elementor-widget-wrap"><p>{STORY}</p></div><div>{OTHER * 6}</div>')
    assert STORY.strip() in text


def test_article_in_an_aside_is_found_on_a_second_lighter_pass() -> None:
    html = _page(f"<aside><h1>Ferry timetable</h1><p>{STORY * 3}</p></aside>")
    assert STORY.strip() in _text(html)


# --- pruning -------------------------------------------------------------------------------------------------------

def test_linked_term_inside_a_sentence_is_kept() -> None:
    article = lxml.html.fragment_fromstring(
        '<div><p>The bank <span class="kw"><a href="/jpm">JPMorgan Chase</a></span> lent the money.</p>'
        '<p><span><a href="/a">Teaser one</a></span></p></div>')
    prune(article)
    text = " ".join(article.text_content().split())
    assert "JPMorgan Chase lent" in text and "Teaser one" not in text


# --- metadata ------------------------------------------------------------------------------------------------------

def _metadata_of(body: str, head: str = "") -> tuple[str | None, str | None]:
    metadata = read_metadata(parse_html(_page(body, head)), BASE_URL)
    return metadata.title, metadata.author


@pytest.mark.parametrize(("byline", "author"), [
    ("<p class='postdata'>Posted by Ann Lee | 21.10.2019</p>", "Ann Lee"),
    ("<address>By <a href='/ann'>Ann Lee</a></address>", "Ann Lee"),
    ("<div>par Didier Roy, 21 juin 2018</div>", "Didier Roy"),
    ("<small>Verfasst von: Jan de la Cruz | 31. Dezember 2008</small>", "Jan de la Cruz"),
    ("<p>Von Berlin bis Hamburg fährt die Fähre nicht.</p>", None),
    ("<p>von der Datenerhebung bis zu den Ergebnissen</p>", None),
    ("<p class='comment'><span>By</span> someone else entirely in a long line of prose that goes on and on</p>",
     None),
])
def test_author_from_a_visible_byline(byline: str, author: str | None) -> None:
    assert _metadata_of(f"<h1>Ferry</h1>{byline}<p>{STORY}</p>")[1] == author


def test_declared_author_wins_over_byline() -> None:
    head = '<meta name="author" content="Bo Berg">'
    assert _metadata_of("<p>By Ann Lee</p>", head)[1] == "Bo Berg"


def test_title_heading_that_is_a_whole_declared_title_wins_over_a_section_label() -> None:
    head = '<title>News - Harbour</title><meta property="og:title" content="Ferry timetable approved">'
    assert _metadata_of("<h1>News</h1><h1>Ferry timetable approved</h1>", head)[0] == "Ferry timetable approved"


def test_title_is_the_one_headline_when_declared_titles_do_not_name_it() -> None:
    assert _metadata_of("<h1>Time to say goodbye.</h1>", "<title>Home</title>")[0] == "Time to say goodbye."


@pytest.mark.parametrize(("heading", "title"), [
    ('<h1><span class="kicker">Harbour</span><span class="sr-only">: </span><span>Ferry timetable approved</span></h1>',
     "Ferry timetable approved"),
    ("<h1><div>Harbour:</div> Ferry timetable approved</h1>", "Ferry timetable approved"),
    ("<h1><b>Harbour:</b> <i>Ferry timetable approved</i></h1>", "Harbour: Ferry timetable approved"),  # emphasis
    ("<h1><span>Harbour:</span> Ferry timetable approved</h1>", "Harbour: Ferry timetable approved"),  # a styled word
])
def test_title_leaves_out_the_kicker_a_heading_leads_with(heading: str, title: str) -> None:
    head = '<meta property="og:title" content="Harbour: Ferry timetable approved">'
    assert _metadata_of(heading, head)[0] == title


def test_title_heading_matches_a_declared_title_whatever_its_dashes_and_quotes() -> None:
    head = ('<title>Ferries - "new" timetable | Harbour</title>'
            '<meta property="og:title" content=\'Ferries - "new" timetable\'>')
    body = "<h1>News</h1><h2>Ferries \u2013 \u201cnew\u201d timetable</h2>"
    assert _metadata_of(body, head)[0] == "Ferries \u2013 \u201cnew\u201d timetable"


def test_title_from_an_element_marked_as_the_headline() -> None:
    title = "Ferries \u2013 new timetable"
    head = f'<title>{title} - Harbour</title><meta property="og:title" content="{title}">'
    assert _metadata_of(f'<h3 itemprop="headline">{title}</h3>', head)[0] == title


@pytest.mark.parametrize(("byline", "author"), [
    ("<div>ByAnn Lee Thursday, November 9, 2023 4:41AM</div>", "Ann Lee"),
    ("<div>Posted on September 21, 2020 by Ann Lee</div>", "Ann Lee"),
    ("<p>~ Ann Lee</p>", None),  # no "by": not a byline line
])
def test_author_from_glued_and_dated_bylines(byline: str, author: str | None) -> None:
    assert _metadata_of(f"<h1>Ferry</h1>{byline}<p>{STORY}</p>")[1] == author


@pytest.mark.parametrize(("head", "author"), [
    ('<meta name="author" content="~ Cem Basman">', "Cem Basman"),
    ('<meta name="author" content="Redacci&amp;oacute;n Diario">', "Redacción Diario"),
])
def test_author_names_lose_stray_marks_and_escapes(head: str, author: str) -> None:
    assert _metadata_of(f"<p>{STORY}</p>", head)[1] == author


def test_a_declared_list_of_authors_is_joined_as_the_page_writes_it() -> None:
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "author": '
            '[{"name": "Ann Lee"}, {"name": "Bo Berg"}]}</script>')
    assert _metadata_of(f"<p>Von Ann Lee und Bo Berg</p><p>{STORY}</p>", head)[1] == "Ann Lee und Bo Berg"
    assert _metadata_of(f"<p>{STORY}</p>", head)[1] == "Ann Lee, Bo Berg"


def test_a_first_of_the_month_counts_only_when_the_page_writes_the_day() -> None:
    written = read_metadata(parse_html(_page(f"<p>Berlin, 1. Februar 2022</p><p>{STORY}</p>")), "http://x.test/a")
    month = read_metadata(parse_html(_page(f"<p>Stand: Februar 2022</p><p>{STORY}</p>")), "http://x.test/a")
    assert (written.published or "")[:10] == "2022-02-01"
    assert month.published is None


def test_what_readability_drops_between_its_paragraphs_is_read_back() -> None:
    rows = "".join(f"<tr><td>{amount} g</td><td>ingredient {i}</td></tr>" for i, amount in enumerate((200, 150, 75)))
    tree = parse_html(_page(f'<div class="recipe"><p>{STORY}</p><table>{rows}</table><p>{OTHER}</p></div>'
                            '<div class="teasers"><p>Short teaser line that is not part of it.</p></div>'))
    picked = lxml.html.fragment_fromstring(f"<div><p>{STORY}</p><p>{OTHER}</p></div>")  # readability's pick
    around = _around(tree, picked)
    assert around is not None
    text = layout_text(around)
    assert "150 g ingredient 1" in text and "teaser" not in text
    assert tree.find(".//table") is not None  # a copy: the page itself is left as it was


LEAD = "Winter crossings will run every hour from November, the harbour committee said."


def test_standfirst_marked_by_its_class_before_the_body_is_found() -> None:
    tree = parse_html(_page(f'<header><h1>Ferry</h1><p class="article-lead">{LEAD}</p></header>'
                            f'<div class="body"><p>{STORY}</p><p>{OTHER}</p></div>'))
    assert find_marked_lead(tree, f"{STORY}\n\n{OTHER}") == LEAD
    assert LEAD in _text(_page(f'<header><h1>Ferry</h1><div class="c-page-intro__copy">{LEAD}</div></header>'
                               f'<div class="body"><p>{STORY}</p><p>{OTHER}</p><p>{STORY}</p></div>'))


@pytest.mark.parametrize("body", [
    f'<div class="body"><p>{STORY}</p><p class="intro">{LEAD}</p></div>',  # after the article's first line
    f'<p class="lead"><a href="/a">{LEAD}</a></p><div><p>{STORY}</p></div>',  # a link, not a standfirst
    f'<p class="leader">Ferry news</p><div><p>{STORY}</p></div>',  # a label, not prose
])
def test_marked_standfirst_is_refused_after_the_body_or_when_not_prose(body: str) -> None:
    assert find_marked_lead(parse_html(_page(body)), STORY) is None


def test_dates_credits_and_labels_around_the_prose_are_trimmed() -> None:
    text = "\n".join(["Veröffentlichung: 2. Februar 2022", "Ferry timetable", STORY.strip(), "Foto: Ann Lee",
                      OTHER.strip(), "Aktualisiert am 17.01.2021", "Mehr zum Thema:", "Schon gelesen?"])
    assert trim_edges(text) == "\n".join(["Ferry timetable", STORY.strip(), OTHER.strip()])


def test_phone_numbers_before_and_short_sentences_after_the_prose_are_kept() -> None:
    text = "\n".join(["Tel. +81 158-23-2012", STORY.strip(), "Be there or be square!", "x Franzi."])
    assert trim_edges(text) == text


def test_captions_that_end_with_their_credit_are_trimmed() -> None:
    caption = "Marco Odermatt, Ski-Star aus der Schweiz. © AFP / Marco Bertorello"
    quoted = "The committee chair said: “Passengers come first.”"  # a colon, but no credit
    assert trim_edges("\n".join([STORY.strip(), caption, quoted, OTHER.strip()])) == "\n".join(
        [STORY.strip(), quoted, OTHER.strip()])


@pytest.mark.parametrize("line", ["Mehr zum Thema", "Zobacz również", "Lesen Sie auch:", "*Werbung",
                                  "ANZEIGE - Wie wäre es mit:", "Abbildung 4: klassische Schwachschicht."])
def test_see_also_labels_ad_labels_and_figure_captions_are_trimmed_anywhere(line: str) -> None:
    assert trim_edges("\n".join([STORY.strip(), line, OTHER.strip()])) == "\n".join([STORY.strip(), OTHER.strip()])


def test_a_sentence_that_starts_like_a_see_also_label_is_kept() -> None:
    text = "\n".join([STORY.strip(), "Related to the timetable, the harbour office extends its opening hours.", OTHER])
    assert trim_edges(text) == text.strip()


def test_unknown_time_zone_names_do_not_warn(capfd: pytest.CaptureFixture[str]) -> None:
    head = '<meta property="article:published_time" content="Mon, 10 Jun 2024 10:00:00 EDT">'
    body = "<p>Posted on Mon, 10 Jun 2024 10:00:00 EDT by the harbour desk.</p>"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        metadata = read_metadata(parse_html(_page(body, head)), BASE_URL)
    assert metadata.published is not None and metadata.published.startswith("2024-06-10")
    assert "UnknownTimezoneWarning" not in capfd.readouterr().err


@pytest.mark.parametrize(("text", "clean"), [
    ('Here is the video:\n\n<a href="http://v.example/1"><img src="http://v.example/1.jpg"></a>\n\nEnd.',
     "Here is the video:\n\nEnd."),
    ("Tom &amp; Jerry <!-- ad --> again", "Tom & Jerry again"),
    ("Branch names look like <year>.<month>: see File \"<stdin>\".",
     "Branch names look like <year>.<month>: see File \"<stdin>\"."),
])
def test_markup_left_as_text_is_stripped_but_placeholders_are_kept(text: str, clean: str) -> None:
    assert strip_markup(text) == clean


def test_escaped_markup_inside_noscript_does_not_reach_the_text() -> None:
    body = (f"<article><p>{STORY * 3}</p><noscript>&lt;img src=\"/pixel.gif\" width=\"1\"&gt;</noscript>"
            f"<p>{OTHER}</p></article>")
    text = _text(_page(body))
    assert STORY.strip() in text and OTHER.strip() in text
    assert "<img" not in text and "pixel.gif" not in text


SHORT_POST = ('<div class="post"><img src="/lanterns.jpg" alt=""><p>Thousands of paper lanterns lit up the river '
              "on Saturday night.</p></div>")


@pytest.mark.parametrize("declaration", ['<meta property="og:type" content="article">',
                                         '<script type="application/ld+json">{"@type": "NewsArticle"}</script>'])
def test_a_short_post_that_declares_itself_an_article_is_kept(declaration: str) -> None:
    extraction = Extractor(min_text_chars=200, min_article_text_chars=50).extract(
        _page(SHORT_POST, f"<title>Lanterns</title>{declaration}"), BASE_URL)
    assert extraction.text == "Thousands of paper lanterns lit up the river on Saturday night."


@pytest.mark.parametrize("declaration", ['<meta property="og:type" content="website">', ""])
def test_a_short_page_that_does_not_declare_an_article_is_still_refused(declaration: str) -> None:
    with pytest.raises(NoReadableContent, match="at least 200 needed"):
        Extractor(min_text_chars=200, min_article_text_chars=50).extract(
            _page(SHORT_POST, f"<title>Lanterns</title>{declaration}"), BASE_URL)


@pytest.mark.parametrize("start", ["12 Comments", "Leave a Reply", '3 thoughts on "Ferry timetable"', "Ann Lee said...",
                                   "Posted by: Ann Lee | May 3, 2024 10:19 PM", "TrackBack URL for this entry:",
                                   "Posted by Ann Lee at 5:27 PM", "Schreibe einen Kommentar",
                                   "Bisher keine Kommentare", "Vos réactions"])
def test_the_text_ends_where_a_comment_thread_starts(start: str) -> None:
    text = f"{STORY}\n\n{OTHER}\n\n{start}\n\nGreat article, thanks for writing it up so clearly for all of us!"
    assert cut_comments(text) == f"{STORY}\n\n{OTHER}".strip()


@pytest.mark.parametrize("text", [
    f"Posted by Ann Lee on May 3, 2024\n\n{STORY}\n\n{OTHER}",  # a byline before the prose
    f"{STORY}\n\nComments welcome here.\n\n{OTHER}",  # a sentence, not a heading
    f"{STORY}\n\nComment\n\n{OTHER}",  # a bare label, as opinion sections are named
])
def test_bylines_and_sentences_that_mention_comments_are_kept(text: str) -> None:
    assert cut_comments(text) == text


@pytest.mark.parametrize(("header", "footer"), [
    ("", "Posted by: Ann Lee at September 12, 2012 9:42 AM"),
    ("Ann Lee said...", ""),
])
def test_a_thread_of_comments_longer_than_the_post_is_cut_at_its_first_comment(header: str, footer: str) -> None:
    comment = "I have been waiting for this timetable all summer, and the early ferry finally suits my shifts."
    thread = "\n\n".join(f"{header}\n\n{comment} {n}\n\n{footer}".strip() for n in range(12))
    first = f"\n\n{comment} 0" if footer else ""  # a footer follows its comment: the first stays
    assert cut_comments(f"{STORY}\n\n{thread}") == f"{STORY}{first}".strip()


def test_a_comment_heading_before_a_thread_longer_than_the_post_is_cut_too() -> None:
    comment = "I have been waiting for this timetable all summer, and the early ferry finally suits my shifts."
    thread = "\n\n".join(f"Ann Lee said...\n\n{comment} {n}" for n in range(12))
    assert cut_comments(f"{STORY}\n\n12 Comments\n\n{thread}") == STORY.strip()


def test_comment_cuts_are_repeated_on_the_prose_left() -> None:
    comment = "I have been waiting for this timetable all summer, and the early ferry finally suits my shifts."
    early = "\n\n".join(f"{comment} {n}" for n in range(3))
    late = "\n\n".join(f"{OTHER} {n}" for n in range(8))
    # the footer is under 30 % of all the prose; once the thread after "Leave a Reply" is cut, it is over 30 %
    text = f"{STORY}\n\n{OTHER}\n\nPosted by Ann Lee at 5:27 PM\n\n{early}\n\nLeave a Reply\n\n{late}"
    assert cut_comments(text) == f"{STORY}\n\n{OTHER}".strip()


def test_a_comment_cut_that_would_leave_too_little_prose_is_not_made() -> None:
    comment = "Lovely news, we will take the early ferry to the island on Saturday with the whole family."
    html = _page(f"<article><p>{STORY}</p><h3>2 Comments</h3><p>{comment}</p><p>{comment} Again.</p></article>")
    assert _text(html) == " ".join(f"{STORY} 2 Comments {comment} {comment} Again.".split())


@pytest.mark.parametrize("text", [
    f"{STORY}\n\nPosted by: Ann Lee at May 3, 2024 9:42 AM\n\n{OTHER}\n\n{OTHER}\n\n{OTHER}",  # one footer: the post's
    f"Ann Lee said...\n\nBob Stone said...\n\n{STORY}",  # no prose before them
])
def test_one_comment_header_or_a_thread_before_any_prose_is_no_cut(text: str) -> None:
    assert cut_comments(text) == text


@pytest.mark.parametrize(("lang", "languages"), [
    ("de", ["de", "en"]), ("en", ["en"]), (None, list(WIDESPREAD_LANGUAGES)),
])
def test_htmldate_extensive_search_reads_dates_in_the_page_language_only(
        monkeypatch: pytest.MonkeyPatch, lang: str | None, languages: list[str]) -> None:
    seen: list[list[str]] = []
    real_find_date = dates.find_date

    def spy(*args: object, **kwargs: object) -> str | None:
        if kwargs.get("extensive_search"):
            seen.append(htmldate_extractors.get_external_parser().languages)
        return real_find_date(*args, **kwargs)

    monkeypatch.setattr(dates, "find_date", spy)
    factory = htmldate_extractors.get_external_parser
    declared = f" lang={lang}" if lang else ""
    html = f"<html{declared}><body><p>{STORY}</p><p>Am 3. Mai 2021 geschrieben.</p></body></html>"
    published = read_metadata(parse_html(html), "http://news.example.test/ferry").published
    assert seen == [languages]  # no date declared: the extensive search ran once, with these languages
    assert published is not None and published.startswith("2021-05-03")
    assert htmldate_extractors.get_external_parser is factory  # htmldate's own factory is back


# --- the cleaned tree, read once -----------------------------------------------------------------------------------

def test_hidden_elements_and_prose_free_tags_are_dropped_their_tail_text_kept() -> None:
    body = ("<p>Kept <button>Menu</button>tail. <svg><text>icon</text></svg>after</p>"
            "<div hidden>secret one</div><div aria-hidden='true'>secret two</div>"
            "<div style='color: red; display: none'>secret three</div><span style='color: red'>shown</span>"
            "<aside>side note <script>track()</script></aside>")
    cleaned = _cleaned(body)
    assert "Kept tail. after" in cleaned and "shown" in cleaned
    assert not [gone for gone in ("Menu", "icon", "secret", "side note", "track()") if gone in cleaned]
    tree = parse_html(_page(body))
    clean_tree(tree, furniture=False)
    lightly = " ".join(tree.text_content().split())
    assert "side note" in lightly and "Kept tail. after" in lightly
    assert "secret" not in lightly and "track()" not in lightly


def test_readability_reads_the_cleaned_tree_as_its_own_cleaner_would_leave_it() -> None:
    page = _page(f"<div class='story' onclick='open()'><p style='color: red'>{STORY * 3}</p>"
                 f"<link rel='stylesheet' href='/a.css'><p><a href='javascript:void(0)'>Timetables</a> {OTHER * 2}</p>"
                 f"<image src='/ferry.png'><script>track()</script></div>")
    tree = parse_html(page)
    ours = lxml.html.fromstring(CleanedDocument(tree).summary(html_partial=True)).text_content()
    theirs = lxml.html.fromstring(Document(parse_html(page)).summary(html_partial=True)).text_content()
    assert " ".join(ours.split()) == " ".join(theirs.split())
    assert STORY.strip() in " ".join(ours.split()) and "track()" not in ours
    assert tree.xpath("//p[@style]") and tree.xpath("//script")  # readability worked on a copy


def test_declared_date_canonical_link_and_marked_author_are_read_in_page_order() -> None:
    head = ("<title>Ferry timetable</title><link rel='stylesheet' href='/a.css'>"
            "<link rel='canonical' href='/2024/05/ferry-final'><link rel='canonical' href='/elsewhere'>")
    body = (f"<p class='byline'>By <a rel='author' href='/ann'>Ann Lee</a></p>"
            f"<p><time>Tuesday</time> <span itemprop='datePublished' content='2024-05-02T09:30:00+02:00'>2 May</span>"
            f"</p><p>{STORY}</p><p itemprop='author'>Bob Stone</p>")
    found = read_metadata(parse_html(_page(body, head)), BASE_URL)
    assert found.canonical_url == "http://news.example.test/2024/05/ferry-final"
    assert found.author == "Ann Lee"
    assert found.published == "2024-05-02T09:30:00+02:00"
    assert found.title == "Ferry timetable"


def test_characters_xml_cannot_hold_are_dropped_and_the_rest_kept() -> None:
    tree = parse_html("<p>a\x00b\x0bc\x1fd\ufffee\uffff f\tg\nh \u00e9\u20ac\U0001f600</p>")
    assert tree.find(".//p").text == "abcde f\tg\nh \u00e9\u20ac\U0001f600"


@pytest.mark.parametrize("prompt", [
    "Subscribe now to our eNATION edition for the full story.",
    "For the latest stories and breaking news updates download the Nationnews apps for iOS and Android.",
    "¿Ya sabías que en Guatemala.com tenemos canal de Telegram? Únete desde tu celular en este enlace de invitación.",
    "Siguenos en Telegram, Instagram, Facebook y Twitter para recibir en directo todas nuestras actualizaciones",
    "Yes! Sign me up to receive the daily Nature Briefing email.",
    "HAZTE MIEMBRO Y DISFRUTA DE BENEFICIOS EXCLUSIVOS",
    "Send us a message on WhatsApp at 1-876-499-0169 or email us.",
])
def test_calls_to_action_at_the_end_of_the_text_are_dropped(prompt: str) -> None:
    text = f"{STORY}\n\n{OTHER}\n\n{prompt}\n\n{prompt}"
    assert drop_calls_to_action(text) == f"{STORY}\n\n{OTHER}".strip()


@pytest.mark.parametrize("text", [
    f"{STORY}\n\nSubscribe now to our newsletter for the harbour news.\n\n{OTHER}",  # not at the end
    f"{STORY}\n\nThe ferry line now sells a subscription for commuters, which the committee debated at length "
    "before it approved the price that the operator had asked for in the spring.",  # a long line: the story's subject
    f"{STORY}\n\nWith WhatsApp showing no signs of letting up, more operators will try to secure deals with it.",
])
def test_calls_to_action_inside_the_text_and_long_lines_about_subscriptions_are_kept(text: str) -> None:
    assert drop_calls_to_action(text) == text.strip()
