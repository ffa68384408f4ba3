"""The article's text: readability-lxml's pick, or the container the page marks as its body, pruned."""

from __future__ import annotations

import re
from copy import deepcopy

import lxml.etree
import lxml.html
from lxml.html import HtmlElement
from readability import Document
from readability.readability import REGEXES, Unparseable

from workers.errors import NoReadableContent
from workers.extraction.patterns import BODY_CLASS_RE, LEAD_CLASS_RE, class_and_id
from workers.extraction.text import fold_whitespace, layout_text, strip_markup

UTF8_PARSER = lxml.html.HTMLParser(encoding="utf-8")
PROSE_MIN_WORDS = 6
PROSE_MIN_CHARS = 40
#: The container replaces readability's pick when it holds this share of readability's sentences...
MIN_SHARED_SENTENCES = 0.95
#: ...or, sharing less, when it has this many times more prose.
MIN_PROSE_RATIO = 1.5
SENTENCE_MIN_CHARS = 30
#: A label (a heading in disguise) is at most this long.
MAX_LABEL_CHARS = 80
#: The first characters of a lead, looked for in the article's text.
LEAD_PROBE_CHARS = 60
#: Readability's paragraphs, read back in the page with what lies between them, replace its pick while at most
#: this many times longer (lists, tables and headings readability dropped, not a whole page).
MAX_AROUND_GROWTH = 1.2
CONTAINER_XPATHS = (
    "//*[@itemprop='articleBody']",
    "//*[@class or @id][not(self::body or self::html)]",
    "//article",
    "//main | //*[@role='main']",
)


def article_text(tree: HtmlElement, *, min_chars: int, description: str | None) -> str:
    """The article's text in a cleaned ``tree`` (which it prunes), its standfirst first when the page shows one."""
    try:
        # readability works on a copy; without a URL it leaves the links as they are (the text has none)
        summary = CleanedDocument(tree).summary(html_partial=True)
    except Unparseable as exc:
        raise NoReadableContent(f"readability could not parse the page: {exc}") from exc
    picked = _body_of(summary)
    text = _pruned_text(picked)
    around = _around(tree, picked)
    if around is not None:
        wider = _pruned_text(around)
        if len(wider) <= MAX_AROUND_GROWTH * len(text):
            text = wider
    container = find_container(tree, min_chars)
    if container is not None:
        text = _second_opinion(text, _pruned_text(container))
    body = tree.find("body")
    if prose_chars(text) < min_chars and body is not None:  # readability found too little: the whole page, pruned
        text = _pruned_text(body)
    text = trim_edges(strip_markup(text))
    lead = find_lead(tree, description) or find_marked_lead(tree, text)
    if lead and lead[:LEAD_PROBE_CHARS] not in fold_whitespace(text):
        text = f"{strip_markup(lead)}\n\n{text}"
    return drop_calls_to_action(cut_comments(text, min_chars))


class CleanedDocument(Document):  # type: ignore[misc]
    """readability's Document of a tree parsed without comments and cleaned by ``clean_tree``: its copy of the tree
    loses what readability's own cleaner would take (scripts, styles, ``<link>``, ``style`` attributes) without that
    cleaner, which also walks every element and link in Python for event attributes and ``javascript:`` links that
    never reach the text. readability-lxml is pinned: ``_parse`` is its hook for the tree each pass of ``summary``
    starts from."""

    def _parse(self, input: HtmlElement) -> HtmlElement:
        doc = deepcopy(input)
        for element in doc.xpath("//*[@hidden]"):
            element.drop_tree()
        for element in doc.xpath("//*[@style]"):
            if REGEXES["displayNoneRe"].search(element.get("style")):
                element.drop_tree()
        lxml.etree.strip_elements(doc, "script", "style", "link", lxml.etree.Comment, lxml.etree.ProcessingInstruction,
                                  with_tail=False)
        lxml.etree.strip_attributes(doc, "style")
        for element in doc.iter("image"):
            element.tag = "img"
        self.encoding = "utf-8"
        return doc


#: A date line: a year (``23.10.2018``, ``Veröffentlichung: 2. Februar 2022``, ``2021-10-16 | Botschaft``), not the
#: end of a phone number (``158-23-2012``).
DATELINE_RE = re.compile(r"(?:^|[^\d-])(?:19|20)\d\d(?:\D|$)")
#: A photo credit, source or ad label on a line of its own: ``Foto: Ann Lee``, ``(Credit: Ann Lee / Grist)``,
#: ``Quelle: dpa``, ``*Werbung``, ``ANZEIGE - Heute mal ausgehen?``.
CREDIT_LINE_RE = re.compile(
    r"^[(\[]?(?:fotos?|photos?|bild(?:er)?|credits?|crédits? photos?|image|titelbild|beitragsbild|bildquelle|"
    r"foto ?credit|zdjęcie|quelle|quellen|quellenangaben|sources?|źródło|fuente)\s*:|^[(\[]?©|"
    r"^[-*\s]*(?:anzeige|werbung|advertisement|sponsored|publicidad|reklama)\b", re.IGNORECASE)
#: An image's caption ends with its credit (``Ski-Star aus der Schweiz. © AFP / Marco Bertorello``, ``(Foto: Andina)``)
#: or starts with its number (``Abbildung 4: Schwachschicht.``, ``Fig. 2:``).
CAPTION_LINE_RE = re.compile(r"(?:\b(?:foto|fotos|photo|bild|credit|quelle)\s*:|©)\s*[^.!?:]{0,60}\)?$|"
                             r"^(?:abbildung|abb\.|figure|fig\.|grafik|graphic|bild)\s*\d*\s*:", re.IGNORECASE)
#: A caption is a sentence or two: a longer paragraph that ends with a credit is the article's.
MAX_CAPTION_LINE_CHARS = 200
#: A label announcing other articles or a contact box, wherever it stands: "see also", "contact", in the corpus's
#: languages.
SEE_ALSO_RE = re.compile(
    r"^(?:mehr zum thema|mehr themen|lesen sie auch|lesen sie mehr|auch interessant|das könnte (?:sie|dich) auch|"
    r"weitere artikel|weitere beiträge|weitere meldungen|verwandte (?:artikel|beiträge|themen)|zum weiterlesen|"
    r"schon gelesen|empfehlungen|related|read more|read also|see also|you may also like|more from|more on|"
    r"zobacz również|czytaj także|czytaj też|lire aussi|à lire aussi|voir aussi|lee también|te puede interesar|"
    r"leer más|ver también|weitere informationen|weitere infos|kontakt|contact|pressekontakt)\b", re.IGNORECASE)


def trim_edges(text: str) -> str:
    """``text`` without credit lines and credited captions, nor the date lines before its first and after its last
    line of prose, nor the lines after its last that end no sentence (``Mehr zum Thema``, ``Kontakt:``, ``Schon
    gelesen?``): the page's furniture around the article."""
    lines = [line for line in text.split("\n") if not _is_credit(line) and not _is_see_also(line)]
    prose = [index for index, line in enumerate(lines) if _is_prose(line)]
    if prose:
        lines = [line for index, line in enumerate(lines)
                 if prose[0] <= index <= prose[-1] or not _is_edge_furniture(line, after=index > prose[-1])]
    return "\n".join(lines).strip()


#: A call to action that closes a page, in the corpora's languages: a subscription or newsletter prompt, the site's
#: app, its channels (a messenger named as a place: "on WhatsApp", "canal de Telegram"), a sign-up form
#: (``Subscribe now to our eNATION edition``, ``Sign me up to receive the daily Briefing``). At the end of the text
#: only: inside it, such a line is the story's subject.
CALL_TO_ACTION_RE = re.compile(
    r"\bsuscr[ií]b|\bsubskrypc|\bnewsletter\b|\bapps?\b.{0,60}\b(?:ios|android)\b|\bapp store\b|\bgoogle play\b|"
    r"\bs[ií]guenos\b|\bfolg(?:en sie|t) uns\b|\b(?:on|en|de|auf|per|via) (?:telegram|whatsapp)\b|"
    r"\bsign (?:up|me up)\b|\bhazte miembro\b|\bletter to the editor\b", re.IGNORECASE)
#: ... a prompt is a sentence or two, not a paragraph.
MAX_CALL_TO_ACTION_CHARS = 400
#: English "subscribe"/"subscription" lines are shorter: a longer one names a subscription the story is about.
SUBSCRIBE_RE = re.compile(r"\bsubscri(?:be|ber|bers|ption)\b", re.IGNORECASE)
MAX_SUBSCRIBE_LINE_CHARS = 160


def drop_calls_to_action(text: str) -> str:
    """``text`` without the calls to action that end it (a subscription prompt, the site's app, its channels)."""
    lines = text.rstrip().split("\n")
    while lines and (not lines[-1].strip() or _is_call_to_action(lines[-1].strip())):
        lines.pop()
    return "\n".join(lines).strip() if lines else text.strip()


def _is_call_to_action(line: str) -> bool:
    return ((len(line) <= MAX_CALL_TO_ACTION_CHARS and bool(CALL_TO_ACTION_RE.search(line)))
            or (len(line) <= MAX_SUBSCRIBE_LINE_CHARS and bool(SUBSCRIBE_RE.search(line))))


#: Where a comment thread (or the post's footer before one) starts: its heading (``12 Comments``, ``Leave a Reply``,
#: ``3 thoughts on "..."``, ``Schreibe einen Kommentar``), a blog engine's post footer (``Posted by Ann at 5:27 PM``,
#: ``This entry was posted on...``, ``TrackBack URL``), a comment's own header (``Ann said...``, ``Posted by: Ann |``),
#: a sign-in prompt to comment.
COMMENTS_START_RE = re.compile(
    r"^(?:\(?\d+\)?\s+(?:comments?|responses?)|comments|replies|kommentare|leserkommentare|reaktionen|"
    r"leave a (?:reply|comment)|post a comment|post your comment|add (?:a|your) comment|join the discussion|"
    r"(?:\d+|one|two|three) (?:thoughts|responses|comments|replies) (?:on|to)|"
    r"schreibe(?:n sie)? einen kommentar|kommentar (?:schreiben|verfassen|abgeben)|"
    r"commentaires?|laisser un commentaire|laissez un commentaire|komentarze|dodaj komentarz|comentarios?|"
    r"deja un comentario|deja una respuesta|(?:bisher |noch )?keine kommentare|vos réactions)\b|"
    r"^trackback|^posted by:|^posted by .{1,60}\b(?:at|on) .{0,60}\d|^this entry was posted (?:on|in)\b|"
    r"^\S.{0,40} said\.{3}$|^(?:please )?(?:login|log in|sign in|register) to (?:leave a |post a |add a )?comment|"
    r"^you (?:must|need to) (?:be logged in|sign in|log in)", re.IGNORECASE)
#: A line that ends a sentence (not an ellipsis, as in "Ann said..."): prose, never a thread's heading.
SENTENCE_END_RE = re.compile(r"[^.]\.$")
#: ... once this share of the text's prose is behind: a byline (``Posted by Ann on 3 May``) stands before it.
MIN_PROSE_BEFORE_COMMENTS = 0.3


#: A comment's own header or footer in a thread: ``Posted by: Ann at May 3, 2012 9:42 AM``, ``Ann said...``. Two or
#: more are a thread, however much of the text it is.
THREAD_LINE_RE = re.compile(r"^posted by: .{1,60}\b(?:at|on) .{0,60}\d|^\S.{0,40} said\.{3}$", re.IGNORECASE)
MIN_THREAD_LINES = 2


def cut_comments(text: str, min_chars: int = 0) -> str:
    """``text`` up to the first comment header of a thread of them, when prose comes before it (a long thread is
    most of the text). Then up to where a comment thread starts (its heading, the post's footer, a comment's
    header), when that comes after the first part of the prose left; a sentence (``Comments welcome here.``) is no
    such start. In this order, a thread longer than the post no longer hides the heading above it; and again on
    what is left (a post's footer above a thread is in its first part once the thread is gone), while a cut leaves
    at least ``min_chars`` of prose (a short post would be refused: with its comments it scores better than none)."""
    while True:
        cut = _cut_at_comments_start(_cut_thread(text))
        if cut == text or prose_chars(cut) < min_chars:
            return text
        text = cut


def _cut_thread(text: str) -> str:
    lines = text.split("\n")
    thread = [index for index, line in enumerate(lines)
              if len(line) <= MAX_LABEL_CHARS and THREAD_LINE_RE.match(line)]
    if len(thread) >= MIN_THREAD_LINES and any(_is_prose(line) for line in lines[:thread[0]]):
        return "\n".join(lines[:thread[0]]).strip()
    return text


def _cut_at_comments_start(text: str) -> str:
    lines = text.split("\n")
    total = sum(len(line) for line in lines if _is_prose(line))
    seen = 0
    for index, line in enumerate(lines):
        if (len(line) <= MAX_LABEL_CHARS and seen >= MIN_PROSE_BEFORE_COMMENTS * total
                and not SENTENCE_END_RE.search(line) and COMMENTS_START_RE.match(line)):
            return "\n".join(lines[:index]).strip()
        if _is_prose(line):
            seen += len(line)
    return text


def _is_credit(line: str) -> bool:
    """A credit line (``Foto: Ann Lee``), or an image's caption that ends with its credit."""
    return ((len(line) <= MAX_LABEL_CHARS and bool(CREDIT_LINE_RE.match(line)))
            or (len(line) <= MAX_CAPTION_LINE_CHARS and bool(CAPTION_LINE_RE.search(line))))


def _is_edge_furniture(line: str, *, after: bool) -> bool:
    """Whether a line beside the prose (never prose itself) is a date, or a label after the article."""
    return bool(DATELINE_RE.search(line)) or (after and not line.endswith((".", "!")))


def _is_see_also(line: str) -> bool:
    """A label announcing links to other articles (which pruning dropped, or kept): ``Mehr zum Thema``."""
    return not _is_prose(line) and bool(SEE_ALSO_RE.match(line))


def _is_prose(line: str) -> bool:
    return len(line.split()) >= PROSE_MIN_WORDS or len(line) >= PROSE_MIN_CHARS


def prose_chars(text: str) -> int:
    """Characters in lines that read as sentences, not labels: credits, buttons and menus do not count.

    A line counts when it has several words, or is long (scripts without spaces between words).
    """
    return sum(len(line) for line in (raw.strip() for raw in text.splitlines()) if _is_prose(line))


def _body_of(summary: str) -> HtmlElement:
    """readability's summary as one element: a fragment, several, or a whole document when it found no body."""
    if not summary.strip():
        return lxml.html.Element("div")
    document = lxml.html.document_fromstring(summary.encode("utf-8"), parser=UTF8_PARSER)
    body = document.find("body")
    return body if body is not None else document


def _pruned_text(article: HtmlElement) -> str:
    prune(article)
    return layout_text(article)


def _second_opinion(by_readability: str, by_container: str) -> str:
    """The container's text when it holds readability's (a superset: headings, leads, split bodies readability
    left out) or has much more prose (readability picked a side block); else readability's."""
    if not by_readability or not by_container:
        return by_readability or by_container
    container_flat = fold_whitespace(by_container)
    sentences = [s for s in fold_whitespace(by_readability).split(". ") if len(s) > SENTENCE_MIN_CHARS]
    shared = sum(s in container_flat for s in sentences) / max(1, len(sentences))
    if shared >= MIN_SHARED_SENTENCES or prose_chars(by_container) > MIN_PROSE_RATIO * prose_chars(by_readability):
        return by_container
    return by_readability


def find_container(tree: HtmlElement, min_chars: int) -> HtmlElement | None:
    """The element the page marks as its article body, most specific marking first; None if there is none."""
    for level, xpath in enumerate(CONTAINER_XPATHS):
        found = tree.xpath(xpath)
        if level == 1:
            found = [e for e in found if BODY_CLASS_RE.search(class_and_id(e))]
        best = max(found, key=_own_text_length, default=None)
        if best is not None and _own_text_length(best) >= min_chars:
            return best
    return None


def _own_text_length(element: HtmlElement) -> int:
    """Characters of text outside links."""
    total = len(fold_whitespace(element.text_content()))
    linked = sum(len(fold_whitespace(a.text_content())) for a in element.iter("a"))
    return total - linked


#: Blocks pruned when this share of their text or more is link text: teaser lists, tag clouds, "read also" lines.
MAX_LINK_DENSITY = 0.5
PRUNED_BLOCKS = ("ul", "ol", "dl", "div", "section", "table", "p", "li", "header", "figure", "span", "h2", "h3", "h4")


def prune(article: HtmlElement) -> None:
    """Drop the link-dense blocks of an article, innermost first, and the headings left announcing them; in place."""
    for element in reversed(list(article.iter(*PRUNED_BLOCKS))):
        if element is article or element.getparent() is None:
            continue
        text = fold_whitespace(element.text_content())
        if not text or (not _in_sentence(element) and _link_density(element, text) >= MAX_LINK_DENSITY):
            _drop_with_heading(element)
    for heading in reversed(list(article.iter("h1", "h2", "h3", "h4", "h5", "h6"))):
        if heading.getparent() is not None and not _has_text_after(heading, article):
            heading.drop_tree()


def _link_density(element: HtmlElement, text: str) -> float:
    return sum(len(fold_whitespace(a.text_content())) for a in element.iter("a")) / len(text)


def _in_sentence(element: HtmlElement) -> bool:
    """Whether words run on both sides of ``element``: a linked term inside a paragraph, not a block of links."""
    parent = element.getparent()
    previous = element.getprevious()
    before = previous.tail if previous is not None else parent.text if parent is not None else None
    return bool((before or "").strip() and (element.tail or "").strip())


def _drop_with_heading(element: HtmlElement) -> None:
    previous = element.getprevious()
    element.drop_tree()
    if previous is not None and _is_label(previous) and not _has_text_after(previous, previous.getparent()):
        previous.drop_tree()


def _is_label(element: HtmlElement) -> bool:
    """A heading, or a short line that reads like one: no sentence."""
    text = fold_whitespace(element.text_content())
    if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return True
    return 0 < len(text) <= MAX_LABEL_CHARS and not text.endswith((".", "!", "?"))


def _has_text_after(element: HtmlElement, within: HtmlElement) -> bool:
    """Whether any text follows ``element`` inside ``within``."""
    node: HtmlElement | None = element
    while node is not None and node is not within:
        if (node.tail or "").strip():
            return True
        if any(fold_whitespace(sibling.text_content()) for sibling in node.itersiblings()):
            return True
        node = node.getparent()
    return False


LEAD_TAGS = ("p", "div", "span", "h2", "h3", "strong", "b", "em", "header", "section", "td")


def find_lead(tree: HtmlElement, description: str | None) -> str | None:
    """The visible paragraph that the page's own description quotes (its standfirst), if the page shows one."""
    if not description or len(description) < LEAD_PROBE_CHARS:
        return None
    probe = fold_whitespace(description)[:LEAD_PROBE_CHARS]
    body = tree.find("body")
    if body is None or probe not in fold_whitespace(body.text_content()):
        return None
    best: str | None = None
    for element in body.iter(*LEAD_TAGS):
        text = fold_whitespace(element.text_content())
        if probe in text and (best is None or len(text) < len(best)):
            best = text
    return best if best is not None and len(best) <= 3 * len(description) else None


#: A standfirst is a few sentences: a longer block so marked is a page section, not a lead.
MAX_MARKED_LEAD_CHARS = 800


def find_marked_lead(tree: HtmlElement, text: str) -> str | None:
    """The prose block the page marks as its standfirst, when it comes before the article's first line of ``text``
    (themes put it in the header, beside the headline, outside the body readability picks)."""
    probe = next((line[:LEAD_PROBE_CHARS] for line in text.splitlines() if len(line) >= SENTENCE_MIN_CHARS), None)
    body = tree.find("body")
    if probe is None or body is None:
        return None
    start = body
    while True:  # down to the innermost element that holds the article's first line
        inner = next((child for child in start if probe in fold_whitespace(child.text_content())), None)
        if inner is None:
            break
        start = inner
    for element in body.iter():
        if element is start:
            return None
        if not LEAD_CLASS_RE.search(class_and_id(element)):
            continue
        flat = fold_whitespace(element.text_content()) if isinstance(element.tag, str) else ""
        if (flat and len(flat.split()) >= PROSE_MIN_WORDS and len(flat) <= MAX_MARKED_LEAD_CHARS
                and probe not in flat and _link_density(element, flat) < MAX_LINK_DENSITY):
            return layout_text(element)
    return None


def _around(tree: HtmlElement, picked: HtmlElement) -> HtmlElement | None:
    """The innermost element of ``tree`` that holds all of readability's paragraphs, as a copy; None if none."""
    texts = {fold_whitespace(p.text_content()) for p in picked.iter("p")}
    matched = [p for p in tree.iter("p")
               if len(p.text_content()) >= SENTENCE_MIN_CHARS and fold_whitespace(p.text_content()) in texts]
    if not matched:
        return None
    shared = set.intersection(*(set(m.iterancestors()) for m in matched))
    node = next((a for a in matched[0].iterancestors() if a in shared), None)
    return deepcopy(node) if node is not None and node.tag not in ("body", "html") else None
