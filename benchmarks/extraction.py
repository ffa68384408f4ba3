"""Extraction quality and cost on a labelled corpus, optionally beside plain readability-lxml.

    .venv/bin/python benchmarks/extraction.py --corpus ../shared/corpus --baseline --json /tmp/extraction.json
    .venv/bin/python benchmarks/extraction.py --corpus ../shared/corpus --limit 200
    .venv/bin/python benchmarks/extraction.py --corpus ../shared/corpus --baseline --trafilatura   # three columns

The corpus is laid out as ``../shared/corpus/README.md`` describes: ``expectations.json`` maps a key (a URL, or
``hard::domain-x.html``) to its page file (gzip of the bytes served), ``with``/``without`` snippets and, for some
pages, ``title``, ``author``, ``date``, ``sitename`` and ``description``. Each page is decoded exactly as the
pipeline does (``decode_html(bytes, None)``) and extracted by ``Extractor.from_settings(get_settings())``; its base
URL is the key when it is an http(s) URL, else ``http://`` + the part after ``::`` or ``://``
(``hard::domain-x.html`` -> ``http://domain-x.html``). Everything runs in this one
process, one page after the other, so the CPU seconds of the extractors compare. ``--trafilatura`` adds trafilatura
(text: ``extract(html, url=url, include_comments=False)``; metadata: ``extract_metadata(html, default_url=url)``,
its defaults) as a third column; with ``--baseline`` every column gets its ratio to readability alone.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

METADATA_FIELDS = ("title", "author", "date", "sitename", "description")


# --- scoring: pure functions -------------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """Every run of whitespace becomes one space; the ends are stripped."""
    return " ".join(text.split())


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


# --- running -------------------------------------------------------------------------------------------------------

@dataclass
class PageResult:
    key: str
    url: str
    counts: Counts
    metadata: dict[str, str | None]
    ms: float
    error: str | None = None


@dataclass
class RunResult:
    name: str
    pages: list[PageResult] = field(default_factory=list)
    cpu_seconds: float = 0.0


Extract = Callable[[str, str], tuple[str | None, dict[str, str | None]]]


def readq_extractor() -> Extract:
    from config.settings import get_settings
    from workers.extractor import Extractor

    extractor = Extractor.from_settings(get_settings())

    def extract(html: str, url: str) -> tuple[str | None, dict[str, str | None]]:
        result = extractor.extract(html, url)
        return result.text, {"title": result.title, "author": result.author, "date": date_part(result.published),
                             "sitename": result.site_name, "description": result.description}

    return extract


def readability_extractor() -> Extract:
    import html_text
    from readability import Document

    def extract(html: str, url: str) -> tuple[str | None, dict[str, str | None]]:
        document = Document(html)
        title = document.short_title()
        text = html_text.extract_text(document.summary())
        return text, {"title": title, "author": None, "date": None, "sitename": None, "description": None}

    return extract


def trafilatura_extractor() -> Extract:
    import logging

    import trafilatura
    from trafilatura.metadata import extract_metadata

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # "discarding data" on every empty page
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)

    def extract(html: str, url: str) -> tuple[str | None, dict[str, str | None]]:
        text = trafilatura.extract(html, url=url, include_comments=False)
        meta = extract_metadata(html, default_url=url)
        return text, {"title": meta.title, "author": meta.author, "date": date_part(meta.date),
                      "sitename": meta.sitename, "description": meta.description}

    return extract


def base_url(key: str) -> str:
    """The key itself when it is a URL, else ``http://`` + the part after ``::`` (``hard::site-x.html``)."""
    if key.startswith(("http://", "https://")):
        return key
    return "http://" + key.split("::", 1)[-1] if "::" in key else "http://" + key.split("://", 1)[-1]


def load_corpus(corpus: Path, limit: int | None) -> list[tuple[str, dict[str, Any], str]]:
    from workers.decoding import decode_html

    expectations: dict[str, dict[str, Any]] = json.loads((corpus / "expectations.json").read_text("utf-8"))
    keys = sorted(expectations)[:limit]
    return [(key, expectations[key], decode_html(gzip.decompress((corpus / expectations[key]["file"]).read_bytes()),
                                                 None)) for key in keys]


def run(name: str, extract: Extract, pages: list[tuple[str, dict[str, Any], str]]) -> RunResult:
    result = RunResult(name)
    cpu_start = time.process_time()
    for key, expected, html in pages:
        url = base_url(key)
        started = time.perf_counter()
        error = None
        try:
            text, metadata = extract(html, url)
        except Exception as exc:  # a failed page scores zero; the run goes on
            text, metadata, error = None, {}, f"{type(exc).__name__}: {exc}"
        ms = (time.perf_counter() - started) * 1000
        counts = count_snippets(text, expected["with"], expected["without"])
        result.pages.append(PageResult(key, url, counts, metadata, ms, error))
    result.cpu_seconds = time.process_time() - cpu_start
    return result


def summarise(run_result: RunResult, expectations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    total = sum((page.counts for page in run_result.pages), Counts())
    summary: dict[str, Any] = {
        "pages": len(run_result.pages),
        "failed": sum(page.error is not None for page in run_result.pages),
        "precision": precision(total), "recall": recall(total), "f1": f1(total), **asdict(total),
    }
    for name in METADATA_FIELDS:
        scored = [metadata_match(expectations[page.key][name], page.metadata.get(name))
                  for page in run_result.pages if name in expectations[page.key]]
        summary[name] = sum(scored) / len(scored) if scored else None
        summary[f"{name}_pages"] = len(scored)
    times = [page.ms for page in run_result.pages]
    summary["median_ms"] = statistics.median(times) if times else 0.0
    summary["p90_ms"] = percentile(times, 0.9) if times else 0.0
    summary["cpu_seconds"] = run_result.cpu_seconds
    return summary


ROWS = [("text precision", "precision", "{:.3f}"), ("text recall", "recall", "{:.3f}"), ("text F1", "f1", "{:.3f}"),
        *((f"{name} exact", name, "{:.3f}") for name in METADATA_FIELDS),
        ("median ms/page", "median_ms", "{:.1f}"), ("p90 ms/page", "p90_ms", "{:.1f}"),
        ("CPU s total", "cpu_seconds", "{:.1f}"), ("failed pages", "failed", "{}")]


def table(summaries: dict[str, dict[str, Any]], baseline: str = "readability") -> str:
    """One column per extractor; with ``baseline`` among them, each other column's ratio to it."""
    names = list(summaries)
    others = [name for name in names if name != baseline] if baseline in summaries else []
    header = f"{'':<18}" + "".join(f"{name:>14}" for name in names) + "".join(
        f"{name[:5] + '/' + baseline[:4]:>13}" for name in others)
    lines = [header]
    for label, key, fmt in ROWS:
        values = {name: summaries[name][key] for name in names}
        cells = "".join(f"{fmt.format(v) if v is not None else 'n/a':>14}" for v in values.values())
        for name in others:
            mine, base = values[name], values[baseline]
            cells += f"{f'{mine / base:.2f}x' if mine is not None and base else 'n/a':>13}"
        pages = summaries[names[0]].get(f"{key}_pages")
        lines.append(f"{label:<18}{cells}" + (f"   ({pages} pages)" if pages is not None else ""))
    return "\n".join(lines)


def worst(run_result: RunResult, count: int = 20) -> list[dict[str, Any]]:
    ranked = sorted(run_result.pages, key=lambda page: (f1(page.counts), page.key))[:count]
    return [{"key": p.key, "url": p.url, "f1": f1(p.counts), **asdict(p.counts), "error": p.error} for p in ranked]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="folder with expectations.json and pages/")
    parser.add_argument("--baseline", action="store_true", help="also score plain readability-lxml, for ratios")
    parser.add_argument("--trafilatura", action="store_true", help="also score trafilatura, a third column")
    parser.add_argument("--json", type=Path, help="write every figure and per-page result here")
    parser.add_argument("--limit", type=int, help="only the first N pages (sorted by key)")
    args = parser.parse_args(argv)

    pages = load_corpus(args.corpus, args.limit)
    expectations = {key: expected for key, expected, _html in pages}
    runs = [run("readq", readq_extractor(), pages)]
    if args.baseline:
        runs.append(run("readability", readability_extractor(), pages))
    if args.trafilatura:
        runs.append(run("trafilatura", trafilatura_extractor(), pages))
    summaries = {r.name: summarise(r, expectations) for r in runs}

    print(f"{len(pages)} pages from {args.corpus}\n")
    print(table(summaries))
    print("\nworst 20 pages by F1 (readq):")
    for row in worst(runs[0]):
        print(f"  {row['f1']:.2f}  tp={row['tp']} fp={row['fp']} fn={row['fn']}  {row['url']}"
              + (f"  [{row['error']}]" if row["error"] else ""))
    if args.json:
        args.json.write_text(json.dumps({
            "summaries": summaries, "worst": worst(runs[0]),
            "pages": {r.name: [{**asdict(p), "f1": f1(p.counts)} for p in r.pages] for r in runs},
        }, indent=1, ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
