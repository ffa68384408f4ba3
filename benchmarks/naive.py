"""The textbook design readq is compared with: one Celery chain per URL, fetch -> extract -> index.

The page's HTML travels in the messages, each document is written with its own ``es.index(..., refresh=True)``,
and the worker is Celery's default: prefork, default prefetch, early acknowledgement. Extraction and the
document are readq's own (``Extractor``, ``build_document``), so only the design differs.

It has its own Celery app on the same Redis, under a key prefix of its own (queue ``naive``). The worker reads
its configuration from ``NAIVE_*`` environment variables::

    NAIVE_REDIS_URL=redis://127.0.0.1:6379/14 NAIVE_PREFIX=naive-x NAIVE_ES_URL=http://127.0.0.1:9200 \\
        celery -A benchmarks.naive worker -Q naive -c 6

``benchmarks/pipeline.py --only naive`` starts and stops it for you.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import requests
from celery import Celery, chain
from elasticsearch import Elasticsearch

from benchmarks.support import delete_prefix, stop_group
from workers.errors import ReadqError
from workers.extraction.decoding import decode_html
from workers.extraction.documents import build_document, document_id
from workers.extraction.extractor import Extractor

QUEUE = "naive"
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class NaiveSettings:
    redis_url: str = "redis://127.0.0.1:6379/14"
    prefix: str = "naive"
    es_url: str = "http://127.0.0.1:9200"

    @property
    def index(self) -> str:
        return f"{self.prefix}-pages"

    @property
    def done_key(self) -> str:
        return f"{self.prefix}:done"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NaiveSettings:
        default = cls()
        return cls(redis_url=env.get("NAIVE_REDIS_URL", default.redis_url),
                   prefix=env.get("NAIVE_PREFIX", default.prefix), es_url=env.get("NAIVE_ES_URL", default.es_url))

    def to_env(self) -> dict[str, str]:
        return {"NAIVE_REDIS_URL": self.redis_url, "NAIVE_PREFIX": self.prefix, "NAIVE_ES_URL": self.es_url}


def celery_config(settings: NaiveSettings) -> dict[str, object]:
    return {
        "broker_url": settings.redis_url,
        "broker_transport_options": {"global_keyprefix": f"{settings.prefix}:"},
        "task_default_queue": QUEUE,
        "task_ignore_result": True,
        "broker_connection_retry_on_startup": True,
    }


settings = NaiveSettings.from_env(os.environ)
app = Celery("naive")
app.conf.update(celery_config(settings))


@functools.cache
def _es() -> Elasticsearch:
    return Elasticsearch(settings.es_url)


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url)


@app.task(name="naive.fetch")
def fetch(url: str) -> dict[str, Any] | None:
    try:
        response = requests.get(url, timeout=30)
        response.raise_for_status()
        html = decode_html(response.content, response.headers.get("Content-Type"))
    except (requests.RequestException, ReadqError):
        return None
    return {"url": url, "final_url": response.url, "status": response.status_code, "html": html,
            "fetched_at": datetime.now(UTC).isoformat()}


@app.task(name="naive.extract")
def extract(page: dict[str, Any] | None) -> dict[str, Any] | None:
    if page is None:
        return None
    try:
        extraction = Extractor(min_text_chars=200).extract(page["html"], page["final_url"])
    except ReadqError:
        return None
    return build_document(url=page["url"], final_url=page["final_url"], fetched_at=page["fetched_at"],
                          http_status=page["status"], batch=None, extraction=extraction)


@app.task(name="naive.index")
def index(document: dict[str, Any] | None) -> None:
    if document is not None:
        _es().index(index=settings.index, id=document_id(document), document=document, refresh=True)
    _redis().incr(settings.done_key)  # the benchmark's finish line, not part of the design


class NaiveRun:
    """The naive worker as a subprocess, URLs sent as chains, and the count of chains that reached the end."""

    def __init__(self, naive: NaiveSettings, concurrency: int, log_path: Path) -> None:
        self.naive = naive
        self.concurrency = concurrency
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.redis = redis.Redis.from_url(naive.redis_url)
        app.conf.update(celery_config(naive))

    def start(self, ready_timeout: float = 90) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "celery", "-A", "benchmarks.naive", "worker", "-Q", QUEUE,
                   "-c", str(self.concurrency), "-n", f"naive-{os.getpid()}@%h", "--loglevel", "WARNING"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **self.naive.to_env()},
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + ready_timeout
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise TimeoutError(f"the naive worker did not answer; see {self.log_path}")
        return self.process

    def submit(self, urls: Sequence[str]) -> None:
        for url in urls:
            chain(fetch.s(url), extract.s(), index.s()).apply_async()

    def finished(self) -> int:
        return int(self.redis.get(self.naive.done_key) or 0)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)

    def clean_up(self) -> None:
        """Delete the index and every Redis key of this run."""
        Elasticsearch(self.naive.es_url).options(ignore_status=404).indices.delete(index=self.naive.index)
        delete_prefix(self.redis, f"{self.naive.prefix}:")
        self.redis.close()
