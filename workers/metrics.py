"""Prometheus metrics of a readq worker, and their HTTP exporter.

A worker serves them from its main process (``start_metrics_server(port)`` once, at Celery's ``worker_init``):
every task runs on a thread of that process, and extraction processes report their time with each page, so one
registry holds everything.
"""

from __future__ import annotations

import threading

from prometheus_client import Counter, Gauge, Histogram, start_http_server

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
QUEUE_DEPTH = Gauge("readq_queue_depth", "Messages waiting, by queue.", ["queue"])

_lock = threading.Lock()
_started = False


def observe_bulk(documents: int, seconds: float) -> None:
    BULK_DOCUMENTS.observe(documents)
    BULK_SECONDS.observe(seconds)


def start_metrics_server(port: int, addr: str = "127.0.0.1") -> None:
    """Serve /metrics on ``port``, once per process."""
    global _started
    with _lock:
        if _started:
            return
        start_http_server(port, addr=addr)
        _started = True
