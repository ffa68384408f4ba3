"""The producer: validate and normalise URLs, then admit them chunk by chunk (seen-set claim, ``queued`` state and
fetch message in one atomic script: :mod:`workers.state.admission`).

Fetch tasks are written straight to the fetch queue's Redis list, one ``LPUSH`` per chunk, as the smallest message
Celery's worker accepts (protocol 2: the task name, id and ``argsrepr`` for Flower in the headers,
``[args, kwargs, embed]`` as the body): about 500 bytes instead of the 1,100 that ``send_task`` writes (origin,
reply_to, base64 body...), and no per-message trip through kombu. No ``task-sent`` event is sent for them; the
batch's own counters say what was queued. No status record is written for a queued URL: in-flight states live in
Redis, and ``{prefix}-status`` holds each URL's final state.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
from celery import Celery

from config.celery import Queue
from workers.errors import RefusedURL
from workers.masking import mask_secrets
from workers.state.admission import Admission, Candidate
from workers.state.progress import ProgressTracker
from workers.state.seen import SeenSet
from workers.urls import normalize_url, url_id

REFUSALS_KEPT = 1000  # examples kept in a receipt; the counts by reason cover every refusal
FETCH_TASK = Queue.FETCH.task
_ENVELOPE = ('{"body":%s,"content-encoding":"utf-8","content-type":"application/json",'
             f'"headers":{{"task":"{FETCH_TASK}","id":"%s","argsrepr":%s}},'
             '"properties":{"delivery_tag":"%s","delivery_info":{"exchange":"","routing_key":"%s"}}}')


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
    duplicates: int = 0  # given more than once in this input (within one chunk; later repeats are already_seen)
    refused: list[Refusal] = field(default_factory=list)
    refused_by_reason: Counter[str] = field(default_factory=Counter)

    @property
    def refused_count(self) -> int:
        return sum(self.refused_by_reason.values())

    def count(self, outcome: Counter[str]) -> None:
        """Add one chunk's admission outcome."""
        self.accepted += outcome["accepted"]
        self.already_seen += outcome["already_seen"]
        self.already_queued += outcome["already_queued"]

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
            "duplicates": self.duplicates,
            "refused": self.refused_count,
            "refused_by_reason": dict(self.refused_by_reason),
            "refusals": [vars(r) for r in self.refused],
        }


def new_batch_id() -> str:
    return uuid.uuid4().hex[:12]


def enqueue(
    urls: Iterable[str], batch: str | None, *, celery: Celery, seen: SeenSet, progress: ProgressTracker,
    chunk_size: int, force: bool = False,
) -> BatchReceipt:
    """Queue ``urls`` for fetching under ``batch`` (generated if None) and return the receipt.

    Invalid URLs are refused with a reason and never queued; the rest go on. URLs are read lazily and
    admitted in chunks, one script call each, so a file of millions of lines runs in bounded memory.
    A URL queued or indexed within the refetch period is not queued again unless ``force``; nor is one
    already waiting in the same batch.
    """
    receipt = BatchReceipt(batch=batch or new_batch_id())
    queue = FetchQueue.of(celery)
    # The broker, the seen-set and the counters are the same Redis (READQ_REDIS_URL), so one script writes all.
    admission = Admission(client=seen.client, seen=seen, progress=progress, queue_key=queue.key)
    # One chunk is admitted (Redis runs its script) while the next is prepared; chunks still go in order.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="readq-admit") as sender:
        admitting: Future[Counter[str]] | None = None
        for chunk in _chunks(_valid_urls(urls, receipt), chunk_size, receipt):
            candidates = [Candidate(url, url_id(url), queue.message(url, receipt.batch)) for url in chunk]
            if admitting is not None:
                receipt.count(admitting.result())
            admitting = sender.submit(admission.admit, receipt.batch, candidates, force=force)
        if admitting is not None:
            receipt.count(admitting.result())
    return receipt


@dataclass(frozen=True)
class FetchQueue:
    """The fetch queue's Redis list, where kombu's Redis transport looks for its messages (the admission script
    pushes them with LPUSH; the worker pops from the other end, so URLs are fetched in the order given)."""

    key: str  # global key prefix + queue name
    routing_key: str

    @classmethod
    def of(cls, celery: Celery) -> FetchQueue:
        queue = str(celery.amqp.router.route({}, FETCH_TASK)["queue"].name)
        prefix = str((celery.conf.broker_transport_options or {}).get("global_keyprefix", ""))
        return cls(key=f"{prefix}{queue}", routing_key=queue)

    def message(self, url: str, batch: str) -> str:
        """A kombu envelope around a Celery protocol-2 message for ``readq.fetch(url, batch)``."""
        task_id = str(uuid.uuid4())
        # The delivery tag only has to be unique among unacknowledged messages; the task id is.
        body = orjson.dumps([[url, batch], {}, {}]).decode()
        # argsrepr: what Flower shows as the task's arguments.
        return _ENVELOPE % (orjson.dumps(body).decode(), task_id, orjson.dumps(repr((url, batch))).decode(), task_id,
                            self.routing_key)


def _valid_urls(urls: Iterable[str], receipt: BatchReceipt) -> Iterator[str]:
    for raw in urls:
        if not raw.strip() or raw.lstrip().startswith("#"):  # blank lines and comments of URL files
            continue
        try:
            yield normalize_url(raw)
        except RefusedURL as exc:
            receipt.refuse(Refusal(url=mask_secrets(raw.strip()[:2000]), reason=exc.reason, message=str(exc)))


def _chunks(items: Iterable[str], size: int, receipt: BatchReceipt) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        distinct = list(dict.fromkeys(chunk))
        receipt.duplicates += len(chunk) - len(distinct)
        yield distinct
