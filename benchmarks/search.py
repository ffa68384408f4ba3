"""Known-item search benchmark: readq's language-aware search against the standard-analyzer baseline, in one run.

    .venv/bin/python benchmarks/search.py --corpus ../shared/corpus --english ../shared/corpus-dragnet \\
        --cache /tmp/search-docs.jsonl --json /tmp/search.json

Every page of the corpora (``pages/*.html.gz``) is decoded and extracted exactly as the pipeline does and becomes
the document readq would index (``--cache`` keeps them for the next run). Both indices get the documents without
their title and description, and each body without any verbatim copy of its own title (many open with their
headline), so each page's title, used as the query, is searched against the bodies alone: its own body must rank
it first, every other body competes. A query is a title of at least two words, as its words (quotes, parentheses
and other search syntax taken out: the baseline's query ignores them, readq's would not); a title shared
by several pages is left out. Per language of the page (py3langid, as indexed): MRR@10 (1/rank of the page if it
is in the first ten, else 0) and recall@10. ``--per-language N`` keeps the first N documents of each language by
URL; every known item of those documents is a query (283 German at the default 300), unless
``--queries-per-language M`` keeps the first M of each language, the same ones every run.

Systems, all on the same noida-db (started here unless ``--es-url``) with the same documents:
- ``baseline``: the former mapping (``title``, ``text``, ``description`` under the standard analyzer) and the
  former query (``multi_match`` over ``title^3``, ``description^2``, ``text``);
- ``readq``: the current index template (language fields by ingest pipeline) and ``readq search`` as it runs
  without ``--lang`` (the language detected from the query, all languages when unsure);
- ``readq --lang`` (``--with-lang``): the same with the page's own language given, as a user who says ``--lang``;
- ``indices per language`` (``--with-indices``): the layout readq did not choose, one index per language behind
  one alias, ``text`` analysed by the index's language (``text.neutral``: standard), the same query shape.
Latency is the wall time of each query as its system runs it (readq: ``Client.search``, with its similar-count
aggregation), p50/p95 per system. A query that gets no answer within ``QUERY_TIMEOUT_S`` is asked again (up to
``QUERY_ATTEMPTS`` times; the answered attempt's time counts, and the retries are reported): on this shared machine
a process can be paused for minutes while another session measures. noida-db scans the index for every text
query, so ``--per-language`` (documents kept per language) sets the run time; the figures are noida-db's, not
Elasticsearch's.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from elasticsearch import ConnectionTimeout, Elasticsearch, helpers

from config.settings import Settings
from readq import Client
from readq._services import NoidaElasticsearch
from workers.extraction.languages import ANALYZERS, analysis_settings
from workers.indexing.elastic import install_templates, pages_template
from workers.indexing.query import OPERATOR, PHRASE_BOOST, PHRASE_MAX_WORDS, PHRASE_SLOP

K = 10
MIN_QUERY_WORDS = 2
MIN_LANGUAGE_QUERIES = 10  # languages with fewer queries are reported together as "other"
INDEXED_FIELDS = ("url", "domain", "text", "lang", "published", "duplicate_of", "word_count")
QUERY_TIMEOUT_S = 120  # the slowest query answers in ~10 s on a loaded machine; bulk indexing gets 600
QUERY_ATTEMPTS = 5  # with the timeout above: a pause of up to ~8 minutes costs no query


# --- scoring: pure functions -------------------------------------------------------------------------------------

def reciprocal_rank(ranked: list[str], wanted: str, k: int = K) -> float:
    """1/rank of ``wanted`` among the first ``k`` of ``ranked``, 0 when it is not there."""
    for rank, url in enumerate(ranked[:k], 1):
        if url == wanted:
            return 1.0 / rank
    return 0.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def title_words(title: str) -> str:
    """The title as a user types it to find the page: its words, without the characters that are search syntax
    (a headline in quotes, a parenthesis); the baseline's query ignores them, readq's would read a phrase."""
    return " ".join(OPERATOR.sub(" ", title).split())


def known_items(documents: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(query, wanted URL, language) for each page whose title has two words or more and is its own."""
    titles = Counter(" ".join((d.get("title") or "").lower().split()) for d in documents)
    items = []
    for document in documents:
        title = " ".join((document.get("title") or "").split())
        if len(title.split()) >= MIN_QUERY_WORDS and titles[title.lower()] == 1 and document.get("text"):
            items.append((title_words(title), document["url"], document.get("lang") or "none"))
    return items


def without_title(text: str, title: str) -> str:
    """The body with every verbatim occurrence of the title taken out (any case, any spacing): a query must not be
    a copy of what it finds, and many bodies open with their headline."""
    words = title.split()
    if not words:
        return text
    return re.sub(r"\s+".join(map(re.escape, words)), " ", text, flags=re.IGNORECASE)


def per_language(documents: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """At most ``limit`` documents of each language, the first by URL (the same ones every run)."""
    taken: Counter[str] = Counter()
    kept = []
    for document in sorted(documents, key=lambda d: d["url"]):
        lang = document.get("lang") or "none"
        if taken[lang] < limit:
            taken[lang] += 1
            kept.append(document)
    return kept


def per_language_items(items: list[tuple[str, str, str]], limit: int | None) -> list[tuple[str, str, str]]:
    if limit is None:
        return items
    taken: Counter[str] = Counter()
    kept = []
    for item in items:
        if taken[item[2]] < limit:
            taken[item[2]] += 1
            kept.append(item)
    return kept


def summarise(ranks: dict[str, list[tuple[str, float]]], languages: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per language (and "all"): queries, MRR@10, recall@10 of each system."""
    out: dict[str, dict[str, Any]] = {}
    for lang in [*languages, "all"]:
        row: dict[str, Any] = {}
        for system, values in ranks.items():
            rr = [v for language, v in values if lang == "all" or language == lang]
            row[system] = {"queries": len(rr), "mrr@10": round(statistics.fmean(rr), 4) if rr else 0.0,
                           "recall@10": round(sum(v > 0 for v in rr) / len(rr), 4) if rr else 0.0}
        out[lang] = row
    return out


# --- the documents -----------------------------------------------------------------------------------------------

def _extract(path: str) -> dict[str, Any] | None:
    from workers.errors import ReadqError
    from workers.extraction.decoding import decode_html
    from workers.extraction.documents import build_document
    from workers.extraction.extractor import Extractor

    page = Path(path)
    url = f"http://corpus.invalid/{page.parent.parent.name}/{page.name.removesuffix('.html.gz')}"
    try:
        html = decode_html(gzip.decompress(page.read_bytes()), None)
        extraction = Extractor.from_settings(Settings()).extract(html, url)
    except ReadqError:
        return None
    document = build_document(url=url, final_url=url, fetched_at="2026-01-01T00:00:00+00:00", http_status=200,
                              batch="bench", extraction=extraction)
    return {name: document.get(name) for name in (*INDEXED_FIELDS, "title")}


def extracted_documents(corpora: list[Path], cache: Path | None, jobs: int) -> list[dict[str, Any]]:
    if cache and cache.exists():
        return [json.loads(line) for line in cache.read_text(encoding="utf-8").splitlines()]
    pages = sorted(str(p) for corpus in corpora for p in (corpus / "pages").glob("*.html.gz"))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        documents = [d for d in pool.map(_extract, pages, chunksize=16) if d is not None]
    if cache:
        cache.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents), encoding="utf-8")
    return documents


# --- the systems -------------------------------------------------------------------------------------------------

def baseline_mappings() -> dict[str, Any]:
    """The former pages mapping: the current one without the language fields and duplicate group."""
    template = pages_template(Settings())
    properties = {name: spec for name, spec in template["mappings"]["properties"].items()
                  if name not in ("i18n", "duplicate_group")}
    return {"dynamic": False, "properties": properties}


def baseline_query(query: str) -> dict[str, Any]:
    return {"query": {"multi_match": {"query": query, "fields": ["title^3", "description^2", "text"]}},
            "size": K, "source_includes": ["url"]}


def by_language_layout(es: Elasticsearch, prefix: str, documents: list[dict[str, Any]]) -> tuple[str, float]:
    """The alternative measured against readq's fields: one index per language, ``text`` analysed by that
    language's analyzer (``text.neutral``: standard), all behind one alias; documents without an analyzer go to
    ``-other``. Returns the alias and the seconds spent indexing."""
    alias = f"{prefix}-bylang"
    langs = sorted({d.get("lang") for d in documents if d.get("lang") in ANALYZERS})
    for lang in [*langs, "other"]:
        text = {"type": "text", "analyzer": ANALYZERS.get(lang, "standard"),
                "fields": {"neutral": {"type": "text", "analyzer": "standard"}}}
        es.indices.create(index=f"{alias}-{lang}", settings={"analysis": analysis_settings()}, aliases={alias: {}},
                          mappings={"dynamic": False, "properties": {"url": {"type": "keyword"}, "text": text}})
    started = time.monotonic()
    actions = ({"_index": f"{alias}-{d['lang'] if d.get('lang') in ANALYZERS else 'other'}", "_id": str(i),
                "_source": {"url": d["url"], "text": d.get("text")}} for i, d in enumerate(documents))
    helpers.bulk(es.options(request_timeout=600), actions, chunk_size=200)
    es.indices.refresh(index=alias)
    return alias, time.monotonic() - started


def by_language_query(query: str) -> dict[str, Any]:
    """readq's query shape on that layout: each index analyses the query with its own language's analyzer."""
    return {"query": {"bool": {
        "must": [{"multi_match": {"query": query, "fields": ["text", "text.neutral"], "type": "best_fields"}}],
        "should": [{"match_phrase": {"text": {"query": " ".join(query.split()[:PHRASE_MAX_WORDS]), "slop": PHRASE_SLOP,
                                              "boost": PHRASE_BOOST}}}]}},
        "size": K, "source_includes": ["url"]}


def bulk_index(es: Elasticsearch, index: str, documents: list[dict[str, Any]]) -> float:
    started = time.monotonic()
    actions = ({"_index": index, "_id": str(i), "_source": {k: d.get(k) for k in INDEXED_FIELDS}}
               for i, d in enumerate(documents))
    helpers.bulk(es.options(request_timeout=600), actions, chunk_size=200)
    es.indices.refresh(index=index)
    return time.monotonic() - started


Ranker = Callable[[str, str], list[str]]  # (query, page language) -> URLs, best first


def run_queries(items: list[tuple[str, str, str]], ranker: Ranker,
                attempts: int = QUERY_ATTEMPTS) -> tuple[list[tuple[str, float]], list[float], int]:
    """Each query's reciprocal rank and latency, and how many attempts timed out and were asked again."""
    ranks, latencies, retries = [], [], 0
    for query, wanted, lang in items:
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                ranked = ranker(query, lang)
                break
            except ConnectionTimeout:
                if attempt == attempts:
                    raise
                retries += 1
                print(f"timed out, asking again: {query!r}", file=sys.stderr)
        latencies.append(time.monotonic() - started)
        ranks.append((lang, reciprocal_rank(ranked, wanted)))
    return ranks, latencies, retries


@contextlib.contextmanager
def elasticsearch_url(given: str | None) -> Iterator[str]:
    """``given``, or the URL of a noida-db started for this run and stopped after it."""
    if given:
        yield given
        return
    server = NoidaElasticsearch(Path(tempfile.mkdtemp(prefix="search-bench-"))).start()
    try:
        yield server.url
    finally:
        server.stop()


def run_systems(es_url: str, documents: list[dict[str, Any]], items: list[tuple[str, str, str]],
                with_lang: bool, with_indices: bool) -> tuple[dict[str, float], dict[str, list[tuple[str, float]]],
                                          dict[str, dict[str, float]]]:
    es = Elasticsearch(es_url, request_timeout=QUERY_TIMEOUT_S)
    settings = Settings(es_url=es_url, index_prefix=f"searchbench-{uuid.uuid4().hex[:6]}",
                        es_request_timeout=QUERY_TIMEOUT_S)
    baseline_index = f"{settings.index_prefix}-baseline"
    client = Client(settings)
    try:
        es.indices.create(index=baseline_index, mappings=baseline_mappings())
        install_templates(es, settings)
        index_seconds = {"baseline": bulk_index(es, baseline_index, documents),
                         "readq": bulk_index(es, settings.pages_alias, documents)}

        def baseline(query: str, lang: str) -> list[str]:
            response = es.search(index=baseline_index, **baseline_query(query))
            return [hit["_source"]["url"] for hit in response["hits"]["hits"]]

        def readq(query: str, lang: str) -> list[str]:
            return [hit.url for hit in client.search(query, size=K)]

        def readq_lang(query: str, lang: str) -> list[str]:
            return [hit.url for hit in client.search(query, size=K, lang=lang if lang in ANALYZERS else None)]

        systems: dict[str, Ranker] = {"baseline": baseline, "readq": readq}
        if with_lang:
            systems["readq --lang"] = readq_lang
        if with_indices:
            by_language, index_seconds["indices per language"] = by_language_layout(es, settings.index_prefix,
                                                                                     documents)

            def indices(query: str, lang: str) -> list[str]:
                response = es.search(index=by_language, **by_language_query(query))
                return [hit["_source"]["url"] for hit in response["hits"]["hits"]]

            systems["indices per language"] = indices
        ranks: dict[str, list[tuple[str, float]]] = {}
        latency: dict[str, dict[str, float]] = {}
        for name, ranker in systems.items():
            started = time.monotonic()
            ranks[name], seconds, retries = run_queries(items, ranker)
            latency[name] = {"p50_ms": round(1000 * percentile(seconds, 0.5), 1),
                             "p95_ms": round(1000 * percentile(seconds, 0.95), 1), "retries": retries}
            print(f"{name}: {len(items)} queries in {time.monotonic() - started:.1f} s ({retries} retried)",
                  file=sys.stderr)
    finally:
        client.close()
        names = list(es.options(ignore_status=404).indices.get(index=f"{settings.index_prefix}-*").body)
        if names:
            es.indices.delete(index=",".join(names))
        es.options(ignore_status=404).ingest.delete_pipeline(id=f"{settings.pages_alias}-languages")
    return index_seconds, ranks, latency


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="e.g. ../shared/corpus")
    parser.add_argument("--english", type=Path, help="a second corpus, e.g. ../shared/corpus-dragnet")
    parser.add_argument("--cache", type=Path, help="JSON lines of the extracted documents, reused when present")
    parser.add_argument("--es-url", help="an Elasticsearch to use (default: a noida-db started here)")
    parser.add_argument("--per-language", type=int, default=300,
                        help="index at most this many documents of each language (noida-db scans the whole index "
                             "for each query, so its size sets the run time)")
    parser.add_argument("--queries-per-language", type=int,
                        help="at most this many known-item queries per language (default: all of them; with fewer, "
                             "one query moves a language's MRR@10 by several per cent)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--with-lang", action="store_true", help="also run readq with each page's language given")
    parser.add_argument("--with-indices", action="store_true",
                        help="also measure the other layout: one index per language behind the alias")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    documents = per_language(extracted_documents([c for c in (args.corpus, args.english) if c], args.cache,
                                                 args.jobs), args.per_language)
    documents = [{**d, "text": without_title(d.get("text") or "", d.get("title") or "")} for d in documents]
    items = per_language_items(known_items(documents), args.queries_per_language)
    print(f"{len(documents)} documents, {len(items)} known-item queries", file=sys.stderr)

    with elasticsearch_url(args.es_url) as es_url:
        index_seconds, ranks, latency = run_systems(es_url, documents, items, args.with_lang, args.with_indices)
    counts = Counter(lang for _, _, lang in items)
    shown = [lang for lang, n in counts.most_common() if n >= MIN_LANGUAGE_QUERIES]
    for name in ranks:
        ranks[name] = [(lang if lang in shown else "other", v) for lang, v in ranks[name]]
    if any(n < MIN_LANGUAGE_QUERIES for n in counts.values()):
        shown.append("other")
    table = summarise(ranks, shown)
    report = {"documents": len(documents), "queries": len(items), "per_language": table, "latency": latency,
              "index_seconds": {k: round(v, 1) for k, v in index_seconds.items()}}
    print(f"{'language':<9}{'queries':>8}" + "".join(f"{name + ' MRR/R@10':>26}" for name in ranks)
          + f"{'MRR gain':>10}")
    for lang, row in table.items():
        base = row["baseline"]["mrr@10"]
        gain = (row["readq"]["mrr@10"] - base) / base * 100 if base else 0.0
        print(f"{lang:<9}{row['baseline']['queries']:>8}"
              + "".join(f"{row[n]['mrr@10']:>18.3f} /{row[n]['recall@10']:>6.3f}" for n in ranks)
              + f"{gain:>+9.1f}%")
    for name, figures in latency.items():
        print(f"latency {name}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms "
              f"({figures['retries']} queries asked again after {QUERY_TIMEOUT_S} s)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
