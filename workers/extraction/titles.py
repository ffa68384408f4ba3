"""The article's title: the page's headline that a declared title names, without the kicker or the site's name."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from workers.extraction.declared import clean
from workers.extraction.patterns import SITE_HEADING_RE, class_and_id

#: Between a headline and the site's name: hyphen, bar, dashes, colon, dots, guillemets, slash, "::".
TITLE_SEPARATOR_RE = re.compile(r"\s+[-|\u2013\u2014:\u00b7\u2022\u00bb\u203a/]\s+|\s*::\s*|\s*\|\s*")
WORD_RE = re.compile(r"\w+")
#: Typographic dashes, quotes and spaces, made plain to compare a heading with a declared title.
TYPOGRAPHY = str.maketrans({**dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
                            **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033", '"'),
                            **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4`", "'"), "\u00a0": " "})
#: Emphasis inside a headline, never a kicker before it; a kicker in a block of its own may precede bare text.
INLINE_TAGS = frozenset({"a", "b", "strong", "i", "em", "u", "mark", "abbr", "sup", "sub", "br"})
BLOCK_TAGS = frozenset({"div", "p", "header"})
#: An <h1> is the title when this share of its words is in a declared title.
TITLE_MIN_OVERLAP = 0.6
#: A declared title that ends a heading is the headline after a kicker when it has this many words.
MIN_KICKED_WORDS = 3


def find_title(tree: HtmlElement, declared: list[str | None], base_url: str, site_name: str | None) -> str | None:
    """The headline :func:`_headline` picks, without the kicker a heading leads with
    (``<h1><span class="kicker">Klimaschutz</span><span>Bohren, bis es heiß wird</span></h1>``)."""
    title = _headline(tree, declared, base_url, site_name)
    if title:
        for heading in tree.xpath("//h1 | //h2"):
            if clean(heading.text_content()) == title:
                return _after_kicker(heading) or title
    return title


def _after_kicker(heading: HtmlElement) -> str | None:
    """The heading's text after its first piece, when that piece is an element of its own (the kicker) and more
    text follows it; separators between them (``<span class="visually-hidden">: </span>``) are dropped."""
    pieces: list[tuple[bool, str]] = [(False, heading.text or "")]
    for child in heading:
        pieces.append((True, child.text_content() if isinstance(child.tag, str) else ""))
        pieces.append((False, child.tail or ""))
    kicker = next((child for child in heading if isinstance(child.tag, str) and WORD_RE.search(child.text_content())),
                  None)
    pieces = [(is_element, text) for is_element, text in pieces if WORD_RE.search(text)]
    if len(pieces) < 2 or not pieces[0][0] or kicker is None or kicker.tag in INLINE_TAGS:
        return None
    rest = pieces[1:]
    if kicker.tag not in BLOCK_TAGS and (len(rest) > 1 or not rest[0][0]):  # a styled first word, not a kicker
        return None
    return clean(" ".join(text for _, text in rest))


def _headline(tree: HtmlElement, declared: list[str | None], base_url: str, site_name: str | None) -> str | None:
    """The visible headline (an ``<h1>``, else an ``<h2>``) that the declared titles name, else the longest part of
    the first declared title once the site's name is split off (``Headline | Site``). A heading that names the
    site (its logo line: a link to a home page, a ``site-title`` class) is never the headline, and a kicker
    before the headline in the same heading (``<h1><span>Kicker</span> Headline</h1>``) is not part of it."""
    titles = [title for title in declared if title]
    h1s, site_headings = _headings(tree, "h1", base_url)
    sites = {_fold(name) for name in (site_name, *site_headings) if name}
    variants = {_fold(variant) for title in titles for variant in (title, *_title_parts(title))} - sites
    whole = {_fold(title) for title in titles} - sites
    h2s, _ = _headings(tree, "h2", base_url)
    for heading in (*h1s, *h2s):  # a heading that is a whole declared title, before one that is a part of one
        text = clean(heading.text_content()) or ""
        if _fold(text) in whole:
            return text
    for heading in h1s:
        named = _named_headline(heading, variants, whole)
        if named:
            return named
    texts = [text for text in (clean(heading.text_content()) for heading in h1s) if text]
    if texts and titles:
        best = max(texts, key=lambda text: _word_overlap(text, titles))
        if _word_overlap(best, titles) >= TITLE_MIN_OVERLAP:
            return best
    for marked in tree.xpath("//*[@itemprop='headline'][not(self::h1 or self::h2 or self::meta)]"):
        text = clean(marked.text_content()) or ""
        if _fold(text) in whole:  # a headline in an <h3> or a <div>, marked as such
            return text
    for heading in h2s:
        named = _named_headline(heading, variants, whole)
        if named:
            return named
    if len(texts) == 1:  # the page's one headline, which its declared titles do not name
        return texts[0]
    if titles:
        parts = [part for part in _title_parts(titles[0]) if _fold(part) not in sites]
        return max(parts or [titles[0]], key=len)
    return texts[0] if texts else None


def _named_headline(heading: HtmlElement, variants: set[str], titles: set[str]) -> str | None:
    """The heading's text, or the part of it after a kicker, when a declared title (or a part of one) names it."""
    text = clean(heading.text_content()) or ""
    if _fold(text) in variants:
        return text
    for piece in (*heading.iter(), *(node for node in heading.xpath(".//text()"))):
        piece_text = clean(piece if isinstance(piece, str) else piece.text_content())
        if piece_text and _fold(piece_text) in variants:
            return piece_text
    for title in sorted(titles, key=len, reverse=True):
        if len(title.split()) >= MIN_KICKED_WORDS and _fold(text).endswith(title):
            return text[len(text) - len(title):]
    return None


def _headings(tree: HtmlElement, tag: str, base_url: str) -> tuple[list[HtmlElement], list[str]]:
    """The page's ``tag`` headings that may be the headline, and the texts of those that name the site."""
    headlines: list[HtmlElement] = []
    site: list[str] = []
    for heading in tree.iter(tag):
        text = clean(heading.text_content())
        if not text:
            continue
        parent = heading.getparent()
        marked = [heading, *heading.iterdescendants()] + ([parent] if parent is not None else [])
        features = " ".join(class_and_id(e) for e in marked if isinstance(e.tag, str))
        links = [a.get("href", "") for a in heading.iter("a")]
        if parent is not None and parent.tag == "a":
            links.append(parent.get("href", ""))
        if SITE_HEADING_RE.search(features) or any(urlsplit(urljoin(base_url, link.strip())).path in ("", "/")
                                                   for link in links):
            site.append(text)
        else:
            headlines.append(heading)
    return headlines, site


def _fold(text: str) -> str:
    """``text`` lower-cased, its dashes and quotes made plain: a CMS typesets ``-`` and ``"`` in the page's
    headline (``Korsetts \u2013 Shops``) but not in its declared titles (``Korsetts - Shops``), or the other
    way round."""
    return text.lower().translate(TYPOGRAPHY)


def _title_parts(title: str) -> list[str]:
    return [part for part in TITLE_SEPARATOR_RE.split(title) if part.strip()]


def _word_overlap(text: str, others: list[str]) -> float:
    words = set(WORD_RE.findall(text.lower()))
    if not words:
        return 0.0
    return max(len(words & set(WORD_RE.findall(other.lower()))) / len(words) for other in others)
