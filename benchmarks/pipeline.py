"""Pipeline throughput: readq end to end beside the in-process extraction ceiling and the textbook design.

Scenarios (``--only``, comma-separated; all by default):

- ceiling: the N pages turned into documents in-process on every core (``page_document``: decoding,
           extraction, the document and its fingerprint; no queue, no network, no index), with its CPU per page;
- peer:    the same N pages through what a user would build instead (``benchmarks/peer.py``: Scrapy, extraction
           in ``parse``, ``helpers.bulk`` to a fresh index), one Scrapy process per core with an equal share;
- readq:   N pages through a real ``readq worker``, with per-stage task runtimes and queue waits (Celery task
           events), queue depths (every 0.2 s), CPU seconds per process (workers, Redis, noida-db), Redis commands
           per page and the workers' peak RSS;
- naive:   the same N pages through ``benchmarks/naive.py`` (one chain per URL, HTML in the messages, one
           ``es.index(refresh=True)`` per document, default prefork worker);
- enqueue: ``Client.enqueue`` of 100,000 distinct URLs with no worker running, and Redis memory per queued URL;
- slow:    every response (robots.txt too) delayed by --latency (1 s) from --slow-hosts servers; one worker with
           --slow-threads threads (256): pages fetched per second and peak concurrent requests.

Everything runs on 127.0.0.1: a redis-server of its own (unless --redis-url), noida-db (unless READQ_ES_URL is
set), many local HTTP servers (one port = one host for readq's politeness rules, which stay at their defaults)
and the workers; every scenario has a namespace of its own, deleted afterwards.

    .venv/bin/python benchmarks/pipeline.py --corpus ../shared/corpus --json /tmp/pipeline.json
    .venv/bin/python benchmarks/pipeline.py --only ceiling,readq --pages 500
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.farm import ServerFarm
from benchmarks.naive import NaiveRun, NaiveSettings
from benchmarks.observe import QueueSampler, RssSampler, TaskEvents, cpu_seconds, cpu_used
from benchmarks.support import commands_run, delete_prefix, prefix_memory, stop_group, used_memory
from config.settings import Settings
from readq import Client
from readq._services import NoidaElasticsearch, RedisServer, wait_for
from tests.support.services import WorkerProcess, drop_indices
from workers.errors import ReadqError
from workers.extraction.documents import page_document
from workers.extraction.extractor import Extractor
from workers.indexing.dedup import BandIndex, find_originals

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pages"
SCENARIOS = ("ceiling", "peer", "readq", "naive", "enqueue", "slow")
WAIT_LIMIT = 900  # s a scenario may wait for its batch: a message lost in the unacked set must not hang the run
Figures = dict[str, Any]


@dataclass(frozen=True)
class Bench:
    """What every scenario shares: the services' addresses, the pages and a scratch directory."""

    redis_url: str
    es_url: str
    services: dict[str, int]  # pid of redis-server and noida-db, when the benchmark started them
    pages: Sequence[bytes]
    workdir: Path

    def cpu_roots(self, processes: dict[str, int]) -> dict[str, int]:
        """The process trees whose CPU a scenario counts: its own, and the services' it started."""
        return {**processes, **self.services}

    def settings(self, name: str, **overrides: Any) -> Settings:
        """readq settings in a fresh namespace (index prefix and Redis key prefix). Politeness stays at its
        defaults (1 request/s and 2 in flight per host): the farm has enough hosts that it never has to wait."""
        return Settings(redis_url=self.redis_url, es_url=self.es_url, index_prefix=f"{name}-{uuid.uuid4().hex[:6]}",
                        allow_private_networks=True, metrics_port=0, **overrides)


def load_pages(corpus: Path | None) -> list[bytes]:
    if corpus is None:
        return [p.read_bytes() for p in sorted(FIXTURES.glob("*.html")) if "login" not in p.name]
    return [gzip.decompress(p.read_bytes()) for p in sorted((corpus / "pages").glob("*.html.gz"))]


# ceiling ---------------------------------------------------------------------------------------------------------

def _extract(body: bytes) -> tuple[bool, float]:
    """What an extraction process computes for a page, without the fetch, Redis, Elasticsearch and queue; whether
    it made a document, and the CPU seconds it took."""
    url = "http://bench.test/"
    started = time.process_time()
    try:
        page_document(_extractor(), body, content_type=None, url=url, final_url=url,
                      fetched_at="2026-01-01T00:00:00+00:00", http_status=200, batch="b")
    except ReadqError:
        return False, time.process_time() - started
    return True, time.process_time() - started


@functools.cache
def _extractor() -> Extractor:
    return Extractor.from_settings(Settings())


def run_ceiling(bench: Bench, n: int) -> Figures:
    """Pages/s turning the same N pages into documents in-process on every core: no queue, network or index."""
    bodies = [bench.pages[i % len(bench.pages)] for i in range(n)]
    cores = os.cpu_count() or 1
    with ProcessPoolExecutor(cores) as pool:
        list(pool.map(_extract, bodies[:cores]))  # warm-up: imports and model loading
        started = time.perf_counter()
        results = list(pool.map(_extract, bodies, chunksize=8))
    elapsed = time.perf_counter() - started
    return {"pages_per_s": n / elapsed, "seconds": elapsed, "extracted": sum(ok for ok, _ in results),
            "cpu_ms_per_page": sum(cpu for _, cpu in results) * 1000 / n}


# peer ------------------------------------------------------------------------------------------------------------

def run_peer(bench: Bench, farm: ServerFarm, n: int) -> Figures:
    """``benchmarks/peer.py`` in one process per core, each given an equal share of the N URLs readq fetches, into
    a fresh index on the same Elasticsearch; timed from the first page served until every process has exited."""
    cores = os.cpu_count() or 1
    urls = farm.urls(n)
    index = f"peer-{uuid.uuid4().hex[:6]}-pages"
    es = Elasticsearch(bench.es_url)
    es.indices.create(index=index)
    services = {name: pid for name, pid in bench.services.items() if name == "noida-db"}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with (bench.workdir / "peer.log").open("ab") as log:
            cpu_before = cpu_seconds(services)
            farm.stats.reset()
            for i in range(cores):
                share = bench.workdir / f"peer-{i}.urls"
                share.write_text("\n".join(urls[i::cores]))
                processes.append(subprocess.Popen(
                    [sys.executable, str(Path(__file__).with_name("peer.py")), "--es-url", bench.es_url,
                     "--index", index, "--urls-file", str(share)],
                    stdout=subprocess.PIPE, stderr=log, start_new_session=True))
            try:
                outputs = [process.communicate(timeout=WAIT_LIMIT)[0] for process in processes]
            except subprocess.TimeoutExpired as exc:
                raise TimeoutError(f"the peer's Scrapy processes did not finish; see {log.name}") from exc
        elapsed = time.perf_counter() - (farm.stats.first_page_at or time.perf_counter())
        es.indices.refresh(index=index)  # noida-db's work to make the documents searchable counts too
        documents = es.count(index=index)["count"]
        cpu = cpu_used(cpu_before, cpu_seconds(services))
    finally:
        for process in processes:
            stop_group(process)
        es.options(ignore_status=404).indices.delete(index=index)
        es.close()
    crawls = [json.loads(output.splitlines()[-1]) if output.strip() else {} for output in outputs]
    for i, crawl in enumerate(crawls):
        cpu[f"scrapy {i}"] = crawl.get("cpu_s", 0.0)
    scrapy_s = sum(crawl.get("cpu_s", 0.0) for crawl in crawls)
    return {"pages_per_s": n / elapsed, "seconds": elapsed, "processes": cores, "documents": documents,
            "items": sum(crawl.get("items", 0) for crawl in crawls),
            "failed_processes": sum(process.returncode != 0 for process in processes), "cpu_s": cpu,
            "cpu_ms_per_page": sum(cpu.values()) * 1000 / n, "scrapy_cpu_ms_per_page": scrapy_s * 1000 / n,
            "es_cpu_ms_per_page": cpu.get("noida-db", 0.0) * 1000 / n}


# readq -----------------------------------------------------------------------------------------------------------

@dataclass
class Workers:
    """``readq worker`` processes on one namespace, started one by one; their process trees' RSS is sampled."""

    client: Client
    log: Path
    rss: RssSampler = field(default_factory=lambda: RssSampler({}).start())
    processes: list[WorkerProcess] = field(default_factory=list)

    def start(self, *args: str) -> None:
        """Start ``readq worker ARGS``; return when its Celery worker answers."""
        worker = WorkerProcess(self.client.settings, self.log, list(args)).start()
        self.processes.append(worker)
        assert worker.process is not None
        self.rss.add_root(f"readq worker {len(self.processes) - 1}", worker.process.pid)
        wait_for(lambda: len(self.client.workers(timeout=0.5)) >= len(self.processes), "readq workers", 90)


@contextmanager
def readq_workers(settings: Settings, log: Path) -> Iterator[Workers]:
    """A namespace to start workers in; on the way out the workers are stopped and the namespace's indices and
    Redis keys deleted."""
    with Client(settings) as client:
        client.install_templates()
        workers = Workers(client, log)
        try:
            yield workers
        finally:
            workers.rss.stop()
            for worker in workers.processes:
                worker.stop()
            drop_indices(client)
            delete_prefix(client.runtime.redis, settings.redis_prefix)


@contextmanager
def observed(bench: Bench, workers: Workers) -> Iterator[Figures]:
    """Queue depths and task events while the block runs; then those figures, the CPU seconds the workers and
    noida-db used, and the workers' peak RSS."""
    figures: Figures = {}
    queues = QueueSampler(workers.client.queue_depths).start()
    events = TaskEvents(workers.client.celery).start()
    events.batch_queued_at = time.time()  # the block queues its batch first
    roots = bench.cpu_roots(workers.rss.roots)
    cpu_before = cpu_seconds(roots)
    started = time.perf_counter()
    try:
        yield figures
    finally:
        elapsed = time.perf_counter() - started
        cpu = cpu_used(cpu_before, cpu_seconds(roots))
        queues.stop()
        events.stop()
        figures.update(queues=queues.summary(), tasks=events.summary(elapsed), cpu_s=cpu,
                       rss_mb=workers.rss.summary())


def push_batch(client: Client, urls: Sequence[str]) -> Figures:
    """Enqueue the URLs as one batch and wait until every one is finished."""
    started = time.perf_counter()
    receipt = client.enqueue(urls, f"bench-{uuid.uuid4().hex[:6]}")
    enqueued = time.perf_counter() - started
    progress = wait_for(lambda: (p := client.progress(receipt.batch)) and p.finished and p,
                        "the benchmark batch", timeout=WAIT_LIMIT, interval=0.2)
    elapsed = time.perf_counter() - started
    return {"pages_per_s": len(urls) / elapsed, "seconds": elapsed, "enqueue_s": enqueued,
            "indexed": progress.indexed, "skipped": progress.skipped, "failed": progress.failed}


def run_readq(bench: Bench, farm: ServerFarm, n: int, *, task_events: bool) -> Figures:
    with readq_workers(bench.settings("bench", task_events=task_events), bench.workdir / "readq.log") as workers:
        workers.start()
        redis = workers.client.runtime.redis
        before = commands_run(redis)
        with observed(bench, workers) as seen:
            figures = push_batch(workers.client, farm.urls(n))
        after = commands_run(redis)
        figures["dedup_search_ms"] = time_dedup_search(workers.client)
    commands = {name: (calls - before.get(name, 0)) / n for name, calls in after.items() if calls > before.get(name, 0)}
    return {**figures, **seen, "pages": n, "cpu_ms_per_page": sum(seen["cpu_s"].values()) * 1000 / n,
            "redis_commands_per_page": sum(commands.values()),
            "redis_commands_per_page_by_command": dict(sorted(commands.items(), key=lambda item: -item[1]))}


def time_dedup_search(client: Client, samples: int = 20) -> float:
    """Ms per document of the index stage's near-duplicate check (``find_originals``: one Redis script for
    ``samples`` documents, and one ``mget`` of candidates) against the band index and documents the run left."""
    settings = client.settings
    client.make_searchable()
    hits = client.runtime.es.search(index=settings.pages_alias, size=samples)["hits"]["hits"]
    bands = BandIndex(client=client.runtime.redis, prefix=settings.redis_prefix, window=settings.duplicate_window)
    started = time.perf_counter()
    find_originals(bands, client.runtime.es, settings.pages_alias, [hit["_source"] for hit in hits],
                   settings.duplicate_similarity)
    return (time.perf_counter() - started) * 1000 / max(1, len(hits))


# naive -----------------------------------------------------------------------------------------------------------

def run_naive(bench: Bench, farm: ServerFarm, n: int, concurrency: int) -> Figures:
    naive = NaiveSettings(redis_url=bench.redis_url, prefix=f"naive-{uuid.uuid4().hex[:6]}", es_url=bench.es_url)
    run = NaiveRun(naive, concurrency, bench.workdir / "naive.log")
    try:
        worker = {"naive worker": run.start().pid}
        roots = bench.cpu_roots(worker)
        rss = RssSampler(worker).start()
        cpu_before = cpu_seconds(roots)
        started = time.perf_counter()
        run.submit(farm.urls(n))
        wait_for(lambda: run.finished() >= n, "the naive chains", timeout=WAIT_LIMIT, interval=0.2)
        elapsed = time.perf_counter() - started
        cpu = cpu_used(cpu_before, cpu_seconds(roots))
        rss.stop()
    finally:
        run.stop()
        run.clean_up()
    return {"pages_per_s": n / elapsed, "seconds": elapsed, "concurrency": concurrency, "rss_mb": rss.summary(),
            "cpu_s": cpu, "cpu_ms_per_page": sum(cpu.values()) * 1000 / n}


# enqueue ---------------------------------------------------------------------------------------------------------

def synthetic_urls(n: int) -> Iterator[str]:
    """N distinct URLs over 5,000 hosts, each with tracking parameters for the normaliser to drop."""
    for i in range(n):
        yield f"https://News{i % 5000}.example.com/section-{i % 17}/article-{i}.html?utm_source=feed&b=2&a={i}#top"


def run_enqueue(bench: Bench, n: int) -> Figures:
    settings = bench.settings("benchenq")
    with Client(settings) as client:
        client.install_templates()
        redis = client.runtime.redis
        try:
            before = used_memory(redis)
            started = time.perf_counter()
            receipt = client.enqueue(synthetic_urls(n), "enqueue-bench")
            elapsed = time.perf_counter() - started
            delta = used_memory(redis) - before
            families = prefix_memory(redis, settings.redis_prefix)
            queued = client.queue_depths()["fetch"]
        finally:
            delete_prefix(redis, settings.redis_prefix)
            drop_indices(client)
    per_url = max(1, receipt.accepted)
    return {"urls_per_s": n / elapsed, "seconds": elapsed, "accepted": receipt.accepted, "queued": queued,
            "used_memory_bytes_per_url": delta / per_url,
            "key_bytes_per_url": sum(size for _, size in families.values()) / per_url,
            "key_bytes_per_url_by_family": {f: size / per_url for f, (_, size) in sorted(families.items())},
            "keys_by_family": {f: keys for f, (keys, _) in sorted(families.items())}}


# slow servers ----------------------------------------------------------------------------------------------------

def run_slow(bench: Bench, n: int, hosts: int, latency: float, threads: int) -> Figures:
    """One worker against servers that take ``latency`` s per response: how many requests its threads keep in
    flight, and pages fetched per second."""
    with ServerFarm(bench.pages, hosts, latency) as farm, \
            readq_workers(bench.settings("benchslow"), bench.workdir / "slow.log") as workers:
        workers.start("--concurrency", str(threads))
        client = workers.client
        with observed(bench, workers) as fetching:
            farm.stats.reset()
            started = time.perf_counter()
            batch = client.enqueue(farm.urls(n), f"slow-{uuid.uuid4().hex[:6]}").batch
            progress = wait_for(lambda: (p := client.progress(batch)) and p.finished and p, "the slow batch",
                                WAIT_LIMIT, 0.2)
            total_s = time.perf_counter() - started
            stats = farm.stats
            fetch_s = (stats.last_page_at or started) - started
    return {"fetched_pages_per_s": stats.pages_served / fetch_s if fetch_s else 0.0, "fetch_s": fetch_s,
            "pages_fetched": stats.pages_served, "failed": progress.failed,
            "peak_concurrent_requests": stats.peak_in_flight, "pages_per_s": n / total_s, "seconds": total_s,
            "hosts": hosts, "latency_s": latency, "threads": threads, **fetching}


# the report ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    scenario: str
    figure: str
    value: float | None
    target: str = ""
    ok: bool | None = None

    def cells(self) -> list[str]:
        value = "-" if self.value is None else f"{self.value:,.3g}" if abs(self.value) < 100 else f"{self.value:,.0f}"
        verdict = "" if self.ok is None else "pass" if self.ok else "MISS"
        return [self.scenario, self.figure, value, self.target, verdict]


def _at_least(value: float | None, floor: float) -> bool | None:
    return None if value is None else value >= floor


def _below(value: float | None, ceiling: float) -> bool | None:
    return None if value is None else value < ceiling


def _get(results: Figures, *path: str) -> Any:
    for key in path:
        if not isinstance(results, dict) or key not in results:
            return None
        results = results[key]
    return results


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _readq_cpu_split(results: Figures) -> tuple[float | None, float | None, float | None]:
    """CPU ms per page of the readq scenario: readq's own processes, redis-server, noida-db."""
    cpu, pages = _get(results, "readq", "cpu_s"), _get(results, "readq", "pages")
    if not cpu or not pages:
        return None, None, None
    services = {"redis-server", "noida-db"}
    own = sum(seconds for name, seconds in cpu.items() if name not in services)
    return own * 1000 / pages, cpu.get("redis-server", 0.0) * 1000 / pages, cpu.get("noida-db", 0.0) * 1000 / pages


def summary_rows(results: Figures) -> list[Row]:
    readq, ceiling, naive = (_get(results, s, "pages_per_s") for s in ("readq", "ceiling", "naive"))
    peer = _get(results, "peer", "pages_per_s")
    vs_ceiling, vs_naive = _ratio(readq, ceiling), _ratio(readq, naive)
    cpu = {s: _get(results, s, "cpu_ms_per_page") for s in ("ceiling", "readq", "naive")}
    enqueue, per_url = _get(results, "enqueue", "urls_per_s"), _get(results, "enqueue", "used_memory_bytes_per_url")
    slow = _get(results, "slow", "fetched_pages_per_s")
    worst_rss = max([*(_get(results, "readq", "rss_mb") or {}).values(),
                     *(_get(results, "slow", "rss_mb") or {}).values()], default=None)
    own, redis_ms, es_ms = _readq_cpu_split(results)
    commands = _get(results, "readq", "redis_commands_per_page")
    beyond_extraction = own - cpu["ceiling"] if own is not None and cpu["ceiling"] is not None else None
    return [
        Row("ceiling", "pages/s, in-process, all cores", ceiling),
        Row("readq", "pages/s, end to end", readq),
        Row("readq", "x ceiling", vs_ceiling, ">= 0.75", _at_least(vs_ceiling, 0.75)),
        Row("peer", "pages/s, end to end (Scrapy, a process per core)", peer),
        Row("readq", "x peer", _ratio(readq, peer), ">= 0.9", _at_least(_ratio(readq, peer), 0.9)),
        Row("peer", "CPU ms per page: Scrapy processes", _get(results, "peer", "scrapy_cpu_ms_per_page")),
        Row("peer", "CPU ms per page: noida-db", _get(results, "peer", "es_cpu_ms_per_page")),
        Row("readq", "x peer by CPU (peer ms / readq ms)",
            _ratio(_get(results, "peer", "cpu_ms_per_page"), _get(results, "readq", "cpu_ms_per_page"))),
        Row("peer", "documents in its index", _get(results, "peer", "documents")),
        Row("naive", "pages/s, end to end", naive),
        Row("readq", "x naive", vs_naive, ">= 3", _at_least(vs_naive, 3)),
        Row("ceiling", "CPU ms per page", cpu["ceiling"]),
        Row("readq", "CPU ms per page (workers, Redis, noida-db)", cpu["readq"]),
        Row("readq", "x ceiling by CPU (ceiling ms / readq ms)", _ratio(cpu["ceiling"], cpu["readq"])),
        Row("readq", "CPU ms per page of readq's processes", own),
        Row("readq", "... beyond extraction (minus the ceiling's)", beyond_extraction, "<= 8",
            _below(beyond_extraction, 8.0001)),
        Row("readq", "Redis CPU ms per page", redis_ms, "<= 0.3", _below(redis_ms, 0.3001)),
        Row("readq", "noida-db CPU ms per page", es_ms),
        Row("naive", "CPU ms per page (worker, Redis, noida-db)", cpu["naive"]),
        Row("readq", "Redis commands per page (server-wide)", commands, "<= 25", _below(commands, 25.0001)),
        Row("readq", "near-duplicate check of 20: ms per document", _get(results, "readq", "dedup_search_ms")),
        Row("enqueue", "URLs/s", enqueue, ">= 25,000", _at_least(enqueue, 25_000)),
        Row("enqueue", "Redis bytes per queued URL (used_memory)", per_url, "< 1024", _below(per_url, 1024)),
        Row("enqueue", "Redis bytes per queued URL (its keys)", _get(results, "enqueue", "key_bytes_per_url")),
        Row("slow", "pages fetched/s, one fetch process", slow, ">= 200", _at_least(slow, 200)),
        Row("slow", "peak concurrent requests", _get(results, "slow", "peak_concurrent_requests")),
        Row("slow", "URLs failed", _get(results, "slow", "failed"), "0", _below(_get(results, "slow", "failed"), 1)),
        Row("readq", "largest worker process RSS, MB", worst_rss, "< 400", _below(worst_rss, 400)),
    ]


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    if not rows:
        return
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    for line in (header, [("-" * w) for w in widths], *rows):
        print("  ".join(str(cell).ljust(w) if i < 2 else str(cell).rjust(w)
                        for i, (cell, w) in enumerate(zip(line, widths, strict=True))).rstrip())


def print_details(name: str, figures: Figures) -> None:
    tasks = figures.get("tasks") or {}
    print_table(f"{name}: tasks (Celery events; ms)",
                ["task", "", "done", "deferred", "retried", "failed", "busy", "run mean", "run p90", "wait mean",
                 "wait p90"],
                [[task, "", f"{t['succeeded']}", f"{t['deferred']}", f"{t['retried']}", f"{t['failed']}",
                  f"{t['busy']:.2f}",
                  f"{t['runtime_mean_ms']:.0f}", f"{t['runtime_p90_ms']:.0f}", f"{t['queue_wait_mean_ms']:.0f}",
                  f"{t['queue_wait_p90_ms']:.0f}"] for task, t in tasks.items()])
    queues = figures.get("queues") or {}
    print_table(f"{name}: queue depths (sampled every 0.2 s)", ["queue", "", "peak", "time-weighted mean"],
                [[q, "", f"{d['peak']:.0f}", f"{d['mean']:.1f}"] for q, d in queues.items()])
    commands = figures.get("redis_commands_per_page_by_command") or {}
    print_table(f"{name}: Redis commands per page, server-wide (scripts' own calls included)",
                ["command", "", "per page"], [[c, "", f"{calls:.2f}"] for c, calls in list(commands.items())[:12]])
    cpu = figures.get("cpu_s") or {}
    print_table(f"{name}: CPU seconds used, by process", ["process", "", "s"],
                [[p, "", f"{sec:.1f}"] for p, sec in sorted(cpu.items(), key=lambda item: -item[1])])
    rss = figures.get("rss_mb") or {}
    print_table(f"{name}: peak RSS per process (MB)", ["process", "", "MB"],
                [[p, "", f"{mb:.0f}"] for p, mb in rss.items()])


def report(results: Figures) -> None:
    print_table("Pipeline throughput", ["scenario", "figure", "value", "target", ""],
                [row.cells() for row in summary_rows(results)])
    for name in ("readq", "peer", "slow", "naive"):
        if name in results:
            print_details(name, results[name])
    for name in SCENARIOS:
        if "error" in (results.get(name) or {}):
            print(f"\n{name} did not finish: {results[name]['error']}")


# main ------------------------------------------------------------------------------------------------------------

@contextmanager
def elasticsearch(workdir: Path, services: dict[str, int]) -> Iterator[str]:
    """READQ_ES_URL if set, else a noida-db of our own for the length of the run (its pid goes to ``services``)."""
    if os.environ.get("READQ_ES_URL"):
        yield os.environ["READQ_ES_URL"]
        return
    es = NoidaElasticsearch(workdir / "es").start()
    if es.process:
        services["noida-db"] = es.process.pid
    try:
        yield es.url
    finally:
        es.stop()


@contextmanager
def redis_server(given: str | None, workdir: Path, services: dict[str, int]) -> Iterator[str]:
    """``given`` if set, else a redis-server of our own (no persistence) for the length of the run, so that its
    memory and command counts are readq's alone (its pid goes to ``services``)."""
    if given:
        yield given
        return
    server = RedisServer(workdir, appendfsync=None).start()
    assert server.process is not None
    services["redis-server"] = server.process.pid
    try:
        yield server.url
    finally:
        server.stop()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated: {','.join(SCENARIOS)}")
    parser.add_argument("--pages", type=int, default=2000, help="N for ceiling, peer, readq and naive")
    parser.add_argument("--corpus", type=Path, help="a corpus laid out like ../shared/corpus (default: test pages)")
    parser.add_argument("--hosts", type=int, default=1000, help="local servers (= hosts) for readq and naive")
    parser.add_argument("--naive-concurrency", type=int, default=3 * (os.cpu_count() or 1),
                        help="prefork processes of the naive worker (default: 3 stages x cores)")
    parser.add_argument("--enqueue-urls", type=int, default=100_000)
    parser.add_argument("--slow-pages", type=int, default=1000)
    parser.add_argument("--slow-hosts", type=int, default=500)
    parser.add_argument("--slow-threads", type=int, default=Settings.model_fields["fetch_concurrency"].default,
                        help="threads of the one fetch worker process (default: READQ_FETCH_CONCURRENCY's default)")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per response in the slow scenario")
    parser.add_argument("--redis-url", help="an existing Redis to use (default: a redis-server of the run's own)")
    parser.add_argument("--events", action="store_true",
                        help="readq workers send Celery task events (as while Flower watches): per-task runtimes "
                             "and queue waits, at their cost")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}")
    return args


def run_scenarios(args: argparse.Namespace, bench: Bench) -> Figures:
    only = args.only.split(",")
    results: Figures = {"pages": args.pages, "distinct_pages": len(bench.pages), "cores": os.cpu_count()}
    runs: dict[str, Callable[[], Figures]] = {
        "ceiling": lambda: run_ceiling(bench, args.pages),
        "enqueue": lambda: run_enqueue(bench, args.enqueue_urls),
        "slow": lambda: run_slow(bench, args.slow_pages, args.slow_hosts, args.latency, args.slow_threads),
    }
    with ServerFarm(bench.pages, args.hosts) as farm:
        runs["peer"] = lambda: run_peer(bench, farm, args.pages)
        runs["readq"] = lambda: run_readq(bench, farm, args.pages, task_events=args.events)
        runs["naive"] = lambda: run_naive(bench, farm, args.pages, args.naive_concurrency)
        for name in SCENARIOS:
            if name in only:
                print(f"running {name}...", file=sys.stderr, flush=True)
                try:
                    results[name] = runs[name]()
                except TimeoutError as exc:  # the other scenarios' figures still count
                    results[name] = {"error": str(exc)}
                    print(f"{name}: {exc}", file=sys.stderr, flush=True)
    return results


def main() -> None:
    args = parse_args()
    pages = load_pages(args.corpus)
    workdir = Path(tempfile.mkdtemp(prefix="readq-bench-"))
    try:
        services: dict[str, int] = {}
        with redis_server(args.redis_url, workdir, services) as redis_url, \
                elasticsearch(workdir, services) as es_url:
            bench = Bench(redis_url=redis_url, es_url=es_url, services=services, pages=pages, workdir=workdir)
            results = run_scenarios(args, bench)
    finally:
        shutil.rmtree(workdir / "es", ignore_errors=True)
        print(f"worker logs: {workdir}", file=sys.stderr)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
