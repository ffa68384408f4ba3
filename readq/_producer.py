"""The producer: validate and normalise URLs, record them as queued, publish fetch tasks in pipelines."""

from __future__ import annotations

import itertools
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from celery import Celery

from workers.errors import ReadqError, RefusedURL
from workers.seen import SeenSet
from workers.states import StateRecorder
from workers.urls import normalize_url, url_id

logger = logging.getLogger(__name__)
REFUSALS_KEPT = 1000  # examples kept in a receipt; the counts by reason cover every refusal


@dataclass(frozen=True)
class Refusal:
    url: str
    reason: str
    message: str


@dataclass
class BatchReceipt:
    """What ``enqueue`` did: the batch id, how many URLs were queued, and which were refused and why."""

    batch: str
    accepted: int = 0
    already_seen: int = 0  # queued or indexed within READQ_REFETCH_AFTER: not queued again (see --force)
    already_queued: int = 0
    refused: list[Refusal] = field(default_factory=list)
    refused_by_reason: Counter[str] = field(default_factory=Counter)

    @property
    def refused_count(self) -> int:
        return sum(self.refused_by_reason.values())

    def refuse(self, refusal: Refusal) -> None:
        self.refused_by_reason[refusal.reason] += 1
        if len(self.refused) < REFUSALS_KEPT:
            self.refused.append(refusal)

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "accepted": self.accepted,
            "already_seen": self.already_seen,
            "already_queued": self.already_queued,
            "refused": self.refused_count,
            "refused_by_reason": dict(self.refused_by_reason),
            "refusals": [vars(r) for r in self.refused],
        }


def new_batch_id() -> str:
    return uuid.uuid4().hex[:12]


def enqueue(
    urls: Iterable[str], batch: str | None, *, celery: Celery, recorder: StateRecorder, seen: SeenSet,
    chunk_size: int, status_timeout: float, force: bool = False,
) -> BatchReceipt:
    """Queue ``urls`` for fetching under ``batch`` (generated if None) and return the receipt.

    Invalid URLs are refused with a reason and never queued; the rest go on. URLs are read lazily and
    published in chunks, one Redis pipeline each, so a file of millions of lines runs in bounded memory.
    A URL queued or indexed within the refetch period is not queued again unless ``force``; nor is one
    already waiting in the same batch.
    """
    receipt = BatchReceipt(batch=batch or new_batch_id())
    status_writes: list[Future[None]] = []
    with celery.producer_or_acquire() as producer:
        for candidates in _chunks(_valid_urls(urls, receipt), chunk_size):
            claimed = seen.claim_many([url_id(u) for u in candidates], force=force)
            chunk = [u for u, ok in zip(candidates, claimed, strict=True) if ok]
            receipt.already_seen += len(candidates) - len(chunk)
            # Recorded as queued before publishing, so that no worker's later state can be overwritten.
            fresh, status_written = recorder.record_queued(chunk, receipt.batch)
            status_writes.append(status_written)
            with producer.batch(max_size=chunk_size):
                for url in fresh:
                    celery.send_task("readq.fetch", args=(url, receipt.batch), producer=producer)
            receipt.accepted += len(fresh)
            receipt.already_queued += len(chunk) - len(fresh)
    recorder.status_writer.flush()
    try:
        for status_written in status_writes:
            status_written.result(timeout=status_timeout)
    except (FutureTimeout, ReadqError) as exc:  # the URLs are queued; only their "queued" records are late
        logger.warning("batch %s is queued, but its status records are not written yet: %s", receipt.batch, exc)
    return receipt


def _valid_urls(urls: Iterable[str], receipt: BatchReceipt) -> Iterator[str]:
    for raw in urls:
        if not raw.strip():
            continue
        try:
            yield normalize_url(raw)
        except RefusedURL as exc:
            receipt.refuse(Refusal(url=raw.strip()[:2000], reason=exc.reason, message=str(exc)))


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield list(dict.fromkeys(chunk))
