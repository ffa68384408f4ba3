r"""Extraction quality and cost on labelled corpora, beside plain readability-lxml and trafilatura.

    .venv/bin/python benchmarks/extraction.py --corpus ../shared/corpus --corpus ../shared/corpus-dragnet \
        --baseline --trafilatura --json /tmp/extraction.json        # the table of both corpora, one run
    .venv/bin/python benchmarks/extraction.py --corpus ../shared/corpus-dragnet --baseline --limit 200  # quick loop

Two corpus layouts are read, each scored as its README says:

- snippets (``expectations.json``, like ``../shared/corpus``): a key (a URL, or ``hard::domain-x.html``) maps to
  its page file (gzip of the bytes served), ``with``/``without`` snippets and, for some pages, ``title``,
  ``author``, ``date``, ``sitename`` and ``description``. Text: snippet containment after normalisation
  (NFC, soft hyphens out, whitespace folded; metadata compare the same way), TP/FP/FN summed over the corpus. The
  base URL of a page is the key when it is an http(s) URL, else ``http://`` + the part after ``::`` or ``://``
  (``hard::domain-x.html`` -> ``http://domain-x.html``).
- articles (``truth.json``: ``{id: {"articleBody": text}}``, pages in ``pages/<id>.html.gz``, like
  ``../shared/corpus-dragnet``): the shingle F1 of the public article-extraction benchmark: per page, the
  multisets of 4-word shingles (words are ``\w+``; a text of fewer words is one shorter shingle) of the truth and
  of the extraction give tp, fp and fn, each divided by their sum; precision and recall are averaged over the
  pages where they are defined, F1 is computed from the two averages. The base URL is ``http://`` + the id.

Each page is decoded exactly as the pipeline does (``decode_html(bytes, None)``) and extracted by
``Extractor.from_settings(get_settings())``. Everything runs in this one process, one page after the other, so the
CPU times of the extractors compare: each page's CPU time (``time.process_time``) and wall time are recorded, and
the table gives the median and p99 CPU ms per page, the slowest page, and with ``--baseline`` each column's ratio
to plain readability-lxml (``Document(html).summary()`` -> ``html_text.extract_text``). ``--trafilatura`` adds
trafilatura (text: ``extract(html, url=url, include_comments=False)``; metadata, on corpora that label it:
``extract_metadata(html, default_url=url)``). Pages whose text contains markup (a tag, an HTML comment, an
undecoded entity) are counted for every column.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

METADATA_FIELDS = ("title", "author", "date", "sitename", "description")
SOFT_HYPHEN = "\u00ad"  # the scorer's own, not readq's: the metric must not depend on the extractor it measures


# --- scoring: pure functions -------------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """The text as read: composed letters (NFC), no soft hyphens, every run of whitespace one space, the ends
    stripped. Labels copy a page's form (decomposed letters, ``&shy;`` in headlines), so without the first two an
    extractor that writes what a reader sees would miss a snippet it has."""
    return " ".join(unicodedata.normalize("NFC", text.replace(SOFT_HYPHEN, "")).split())


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


def count_snippets(text: str | None, with_: Iterable[str], without: Iterable[str]) -> Counts:
    """TP/FP/FN of one page; no text (a failed extraction) finds no snippet at all."""
    haystack = normalise(text or "")
    found = [bool(haystack) and normalise(s) in haystack for s in with_]
    leaked = [bool(haystack) and normalise(s) in haystack for s in without]
    return Counts(tp=sum(found), fp=sum(leaked), fn=len(found) - sum(found))


def precision(c: Counts) -> float:
    return c.tp / (c.tp + c.fp) if c.tp + c.fp else 0.0


def recall(c: Counts) -> float:
    return c.tp / (c.tp + c.fn) if c.tp + c.fn else 0.0


def f1(c: Counts) -> float:
    """2TP / (2TP + FP + FN); a page with nothing to find and nothing leaked scores 1."""
    denominator = 2 * c.tp + c.fp + c.fn
    return 2 * c.tp / denominator if denominator else 1.0


def metadata_match(expected: str | list[str], got: str | None) -> bool:
    """Equal after whitespace normalisation; an expected empty string is matched by no value.

    A list (several authors) is matched by its names joined with ", " or "; ".
    """
    forms = [", ".join(expected), "; ".join(expected)] if isinstance(expected, list) else [expected]
    return any(normalise(form) == normalise(got or "") for form in forms)


def date_part(iso: str | None) -> str | None:
    """``YYYY-MM-DD`` of an ISO 8601 date or date-time."""
    return iso[:10] if iso else None


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


#: A word, as the shingle metric splits a text.
WORD_RE = re.compile(r"\w+")
SHINGLE_WORDS = 4


def shingles(text: str | None, size: int = SHINGLE_WORDS) -> Counter[tuple[str, ...]]:
    """The multiset of ``size``-word shingles of ``text``; a text of fewer words is one shorter shingle."""
    words = WORD_RE.findall(text or "")
    return Counter(tuple(words[i:i + size]) for i in range(max(1, len(words) - size + 1)) if words[i:i + size])


@dataclass(frozen=True)
class ShingleScore:
    """One page's tp, fp and fn shingles, each divided by their sum (so that long pages weigh no more)."""

    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float | None:
        """None where undefined: nothing extracted (tp = fp = 0) on a page with something to find."""
        if self.fp == self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        if self.fp == self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def score_shingles(truth: str, extracted: str | None) -> ShingleScore:
    expected, got = shingles(truth), shingles(extracted)
    tp = sum((expected & got).values())
    fp = sum((got - expected).values())
    fn = sum((expected - got).values())
    total = tp + fp + fn
    return ShingleScore(tp / total, fp / total, fn / total) if total else ShingleScore(0.0, 0.0, 0.0)


def shingle_f1(scores: Iterable[ShingleScore]) -> tuple[float, float, float]:
    """(precision, recall, F1): precision and recall averaged over the pages where each is defined, F1 from the
    two averages."""
    scores = list(scores)
    precisions = [p for p in (score.precision for score in scores) if p is not None]
    recalls = [r for r in (score.recall for score in scores) if r is not None]
    mean_p = statistics.mean(precisions) if precisions else 0.0
    mean_r = statistics.mean(recalls) if recalls else 0.0
    return mean_p, mean_r, 2 * mean_p * mean_r / (mean_p + mean_r) if mean_p + mean_r else 0.0


def page_f1(score: ShingleScore) -> float:
    p, r = score.precision or 0.0, score.recall or 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def contains_markup(text: str | None) -> bool:
    """Whether ``text`` holds an HTML tag or comment (not a placeholder such as ``<year>``) or an undecoded entity,
    as :mod:`workers.extraction.text` defines them."""
    from workers.extraction.text import ENTITY_RE, MARKUP_RE, is_markup

    return bool(text) and (any(is_markup(match) for match in MARKUP_RE.finditer(text or ""))
                           or bool(ENTITY_RE.search(text or "")))


# --- running -------------------------------------------------------------------------------------------------------

SNIPPETS, ARTICLES = "snippets", "articles"


@dataclass
class Corpus:
    path: Path
    kind: str  # SNIPPETS or ARTICLES
    pages: list[tuple[str, dict[str, Any], str]]  # key, what is expected, the decoded page

    @property
    def expectations(self) -> dict[str, dict[str, Any]]:
        return {key: expected for key, expected, _html in self.pages}


@dataclass
class PageResult:
    key: str
    url: str
    ms: float
    cpu_ms: float
    markup: bool
    counts: Counts | None = None
    shingles: ShingleScore | None = None
    metadata: dict[str, str | None] = field(default_factory=dict)
    error: str | None = None

    @property
    def f1(self) -> float:
        return f1(self.counts) if self.counts is not None else page_f1(self.shingles or ShingleScore(0, 0, 0))


@dataclass
class RunResult:
    name: str
    pages: list[PageResult] = field(default_factory=list)
    cpu_seconds: float = 0.0


Extract = Callable[[str, str], tuple[str | None, dict[str, str | None]]]


def readq_extractor(metadata: bool) -> Extract:
    from config.settings import get_settings
    from workers.extraction.extractor import Extractor

    extractor = Extractor.from_settings(get_settings())

    def extract(html: str, url: str) -> tuple[str | None, dict[str, str | None]]:
        result = extractor.extract(html, url)
        meta = result.metadata
        return result.text, {"title": meta.title, "author": meta.author, "date": date_part(meta.published),
                             "sitename": meta.site_name, "description": meta.description}

    return extract


def readability_extractor(metadata: bool) -> Extract:
    import html_text
    from readability import Document

    def extract(html: str, url: str) -> tuple[str | None, dict[str, str | None]]:
        document = Document(html)
        title = document.short_title() if metadata else None
        text = html_text.extract_text(document.summary())
        return text, {"title": title, "author": None, "date": None, "sitename": None, "description": None}

    return extract


def trafilatura_extractor(metadata: bool) -> Extract:
    import logging

    import trafilatura
    from trafilatura.metadata import extract_metadata

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # "discarding data" on every empty page
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)

    def extract(html: str, url: str) -> tuple[str | None, dict[str, str | None]]:
        text = trafilatura.extract(html, url=url, include_comments=False)
        if not metadata:
            return text, {}
        meta = extract_metadata(html, default_url=url)
        return text, {"title": meta.title, "author": meta.author, "date": date_part(meta.date),
                      "sitename": meta.sitename, "description": meta.description}

    return extract


EXTRACTORS: dict[str, Callable[[bool], Extract]] = {
    "readq": readq_extractor, "readability": readability_extractor, "trafilatura": trafilatura_extractor,
}


def base_url(key: str) -> str:
    """The key itself when it is a URL, else ``http://`` + the part after ``::`` (``hard::site-x.html``)."""
    if key.startswith(("http://", "https://")):
        return key
    return "http://" + key.split("::", 1)[-1] if "::" in key else "http://" + key.split("://", 1)[-1]


def load_corpus(corpus: Path, limit: int | None) -> Corpus:
    """The corpus at ``corpus``, of either layout, its pages decoded as the pipeline decodes them."""
    from workers.extraction.decoding import decode_html

    if (corpus / "expectations.json").exists():
        kind, expectations = SNIPPETS, json.loads((corpus / "expectations.json").read_text("utf-8"))
        files = {key: corpus / expected["file"] for key, expected in expectations.items()}
    elif (corpus / "truth.json").exists():
        kind, expectations = ARTICLES, json.loads((corpus / "truth.json").read_text("utf-8"))
        files = {key: corpus / "pages" / f"{key}.html.gz" for key in expectations}
    else:
        raise SystemExit(f"{corpus}: neither expectations.json nor truth.json")
    keys = sorted(expectations)[:limit]
    return Corpus(corpus, kind, [(key, expectations[key], decode_html(gzip.decompress(files[key].read_bytes()), None))
                                 for key in keys])


def run(name: str, extract: Extract, corpus: Corpus) -> RunResult:
    result = RunResult(name)
    cpu_start = time.process_time()
    for key, expected, html in corpus.pages:
        url = base_url(key)
        started, cpu_started = time.perf_counter(), time.process_time()
        error = None
        try:
            text, metadata = extract(html, url)
        except Exception as exc:  # a failed page scores zero; the run goes on
            text, metadata, error = None, {}, f"{type(exc).__name__}: {exc}"
        page = PageResult(key, url, ms=(time.perf_counter() - started) * 1000,
                          cpu_ms=(time.process_time() - cpu_started) * 1000, markup=contains_markup(text),
                          metadata=metadata, error=error)
        if corpus.kind == SNIPPETS:
            page.counts = count_snippets(text, expected["with"], expected["without"])
        else:
            page.shingles = score_shingles(expected["articleBody"], text)
        result.pages.append(page)
    result.cpu_seconds = time.process_time() - cpu_start
    return result


SLOW_PAGE_MS = 1000


def summarise(run_result: RunResult, corpus: Corpus) -> dict[str, Any]:
    pages = run_result.pages
    summary: dict[str, Any] = {"pages": len(pages), "failed": sum(page.error is not None for page in pages)}
    if corpus.kind == SNIPPETS:
        total = sum((page.counts or Counts() for page in pages), Counts())
        summary |= {"precision": precision(total), "recall": recall(total), "f1": f1(total), **asdict(total)}
        expectations = corpus.expectations
        for name in METADATA_FIELDS:
            scored = [metadata_match(expectations[page.key][name], page.metadata.get(name))
                      for page in pages if name in expectations[page.key]]
            summary[name] = sum(scored) / len(scored) if scored else None
            summary[f"{name}_pages"] = len(scored)
    else:
        p, r, f = shingle_f1(page.shingles for page in pages if page.shingles is not None)
        summary |= {"precision": p, "recall": r, "f1": f, "below_half": sum(page.f1 < 0.5 for page in pages)}
    cpu = [page.cpu_ms for page in pages] or [0.0]
    wall = [page.ms for page in pages] or [0.0]
    summary |= {
        "median_cpu_ms": statistics.median(cpu), "p99_cpu_ms": percentile(cpu, 0.99), "max_cpu_ms": max(cpu),
        "median_ms": statistics.median(wall), "max_ms": max(wall), "slow": sum(ms > SLOW_PAGE_MS for ms in wall),
        "cpu_seconds": run_result.cpu_seconds, "markup": sum(page.markup for page in pages),
    }
    return summary


def rows(kind: str) -> list[tuple[str, str, str]]:
    text = "text" if kind == SNIPPETS else "shingle"
    quality = [(f"{text} precision", "precision", "{:.3f}"), (f"{text} recall", "recall", "{:.3f}"),
               (f"{text} F1", "f1", "{:.3f}")]
    if kind == SNIPPETS:
        quality += [(f"{name} exact", name, "{:.3f}") for name in METADATA_FIELDS]
    else:
        quality += [("pages F1 < 0.5", "below_half", "{}")]
    return [*quality,
            ("median CPU ms/page", "median_cpu_ms", "{:.1f}"), ("p99 CPU ms/page", "p99_cpu_ms", "{:.1f}"),
            ("max CPU ms/page", "max_cpu_ms", "{:.0f}"), ("median ms/page", "median_ms", "{:.1f}"),
            ("max ms/page", "max_ms", "{:.0f}"), (f"pages over {SLOW_PAGE_MS} ms", "slow", "{}"),
            ("CPU s total", "cpu_seconds", "{:.1f}"), ("pages with markup", "markup", "{}"),
            ("failed pages", "failed", "{}")]


def table(summaries: dict[str, dict[str, Any]], kind: str, baseline: str = "readability") -> str:
    """One column per extractor; with ``baseline`` among them, each other column's ratio to it."""
    names = list(summaries)
    others = [name for name in names if name != baseline] if baseline in summaries else []
    header = f"{'':<20}" + "".join(f"{name:>14}" for name in names) + "".join(
        f"{name[:5] + '/' + baseline[:4]:>13}" for name in others)
    lines = [header]
    for label, key, fmt in rows(kind):
        values = {name: summaries[name][key] for name in names}
        cells = "".join(f"{fmt.format(v) if v is not None else 'n/a':>14}" for v in values.values())
        for name in others:
            mine, base = values[name], values[baseline]
            cells += f"{f'{mine / base:.2f}x' if mine is not None and base else 'n/a':>13}"
        pages = summaries[names[0]].get(f"{key}_pages")
        lines.append(f"{label:<20}{cells}" + (f"   ({pages} pages)" if pages is not None else ""))
    return "\n".join(lines)


def worst(run_result: RunResult, count: int = 20) -> list[dict[str, Any]]:
    ranked = sorted(run_result.pages, key=lambda page: (page.f1, page.key))[:count]
    return [{"key": p.key, "url": p.url, "f1": p.f1, "error": p.error,
             **(asdict(p.counts) if p.counts is not None else asdict(p.shingles) if p.shingles else {})}
            for p in ranked]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, action="append", required=True,
                        help="a folder with expectations.json or truth.json, and pages/ (repeat for several)")
    parser.add_argument("--baseline", action="store_true", help="also score plain readability-lxml, for ratios")
    parser.add_argument("--trafilatura", action="store_true", help="also score trafilatura (needs .[bench])")
    parser.add_argument("--json", type=Path, help="write every figure and per-page result here")
    parser.add_argument("--limit", type=int, help="only the first N pages of each corpus (sorted by key)")
    args = parser.parse_args(argv)

    names = ["readq", *(["readability"] if args.baseline else []), *(["trafilatura"] if args.trafilatura else [])]
    report: dict[str, Any] = {}
    for path in args.corpus:
        corpus = load_corpus(path, args.limit)
        runs = [run(name, EXTRACTORS[name](corpus.kind == SNIPPETS), corpus) for name in names]
        summaries = {r.name: summarise(r, corpus) for r in runs}
        print(f"{len(corpus.pages)} pages from {path} ({corpus.kind})\n")
        print(table(summaries, corpus.kind))
        print("\nworst 20 pages by F1 (readq):")
        for row in worst(runs[0]):
            print(f"  {row['f1']:.2f}  {row['key']}" + (f"  [{row['error']}]" if row["error"] else ""))
        print()
        report[str(path)] = {
            "kind": corpus.kind, "summaries": summaries, "worst": worst(runs[0]),
            "pages": {r.name: [{**asdict(p), "f1": p.f1} for p in r.pages] for r in runs},
        }
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
