"""Prometheus metrics of the readq workers, and their HTTP exporter.

Wiring (one exporter per worker, on a port of its own):

- Threaded stages (fetch, index): call ``start_metrics_server(port)`` once in the worker's main process
  (Celery's ``worker_init`` signal); tasks update the metrics below directly.
- Prefork stage (extract): tasks run in child processes, so their samples go through prometheus_client's
  multiprocess mode, which it picks when first imported. So in the launcher, before starting that worker, call
  ``prepare_multiprocess_dir(path)`` with a directory private to the worker and put
  ``PROMETHEUS_MULTIPROC_DIR=path`` in the worker's environment (not the launcher's). Then
  ``start_metrics_server(port)`` in ``worker_init`` serves every child's samples through a
  ``MultiProcessCollector``, and ``mark_process_dead(pid)`` in ``worker_process_shutdown`` drops a finished
  child's live gauges.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess, start_http_server

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

PAGES_FETCHED = Counter("readq_pages_fetched", "Fetch attempts, by outcome.", ["outcome"])
FETCH_SECONDS = Histogram(
    "readq_fetch_seconds", "Time to fetch one page, redirects included.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60),
)
FETCH_BYTES = Histogram(
    "readq_fetch_bytes", "Decompressed size of a fetched body.",
    buckets=(1024, 4096, 16384, 65536, 262144, 1048576, 2097152, 5242880),
)
EXTRACT_SECONDS = Histogram(
    "readq_extract_seconds", "Time to extract one page.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
PAGES_INDEXED = Counter("readq_pages_indexed", "Documents Elasticsearch accepted.")
PAGES_FAILED = Counter("readq_pages_failed", "URLs recorded as failed, by stage and reason.", ["stage", "reason"])
PAGES_SKIPPED = Counter("readq_pages_skipped", "URLs recorded as skipped, by reason.", ["reason"])
BULK_DOCUMENTS = Histogram(
    "readq_bulk_documents", "Documents per _bulk request.", buckets=(1, 5, 10, 25, 50, 100, 200, 500, 1000),
)
BULK_SECONDS = Histogram(
    "readq_bulk_seconds", "Duration of one _bulk request.", buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUEUE_DEPTH = Gauge("readq_queue_depth", "Messages waiting, by queue.", ["queue"], multiprocess_mode="mostrecent")

_lock = threading.Lock()
_started = False


def observe_bulk(documents: int, seconds: float) -> None:
    BULK_DOCUMENTS.observe(documents)
    BULK_SECONDS.observe(seconds)


def prepare_multiprocess_dir(path: str | os.PathLike[str]) -> None:
    """Create ``path`` if needed and delete its sample files: an earlier run's would be counted again.

    Call it in the parent, before the worker starts: a process whose metrics already write there would lose them.
    """
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def start_metrics_server(port: int, addr: str = "127.0.0.1") -> None:
    """Serve /metrics on ``port``, once per process tree; all processes' samples in multiprocess mode."""
    global _started
    with _lock:
        if _started:
            return
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            start_http_server(port, addr=addr, registry=registry)
        else:
            start_http_server(port, addr=addr, registry=REGISTRY)
        _started = True


def mark_process_dead(pid: int) -> None:
    """Drop the live gauges of a finished child process (multiprocess mode only)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
