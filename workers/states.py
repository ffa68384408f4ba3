"""Every URL's state: exact counters in Redis (instant progress) and a record in ``{prefix}-status`` (queryable).

Status records are written through a bulk indexer, never one request per transition. Each carries an external
version (microseconds since the epoch) so that, whichever process's bulk request lands last, the newest
state wins.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from workers import metrics
from workers.indexer import Action, BulkIndexer
from workers.progress import ProgressTracker, State
from workers.seen import SeenSet
from workers.urls import domain_of, url_id

logger = logging.getLogger("readq.outcome")


class StateRecorder:
    def __init__(self, *, progress: ProgressTracker, status_writer: BulkIndexer, seen: SeenSet,
                 status_alias: str) -> None:
        self.progress = progress
        self.seen = seen
        self.status_writer = status_writer
        self.status_alias = status_alias

    def status_action(self, url: str, batch: str, state: State, *, stage: str, **details: Any) -> Action:
        return self._status_actions([(url, url_id(url))], batch, state, stage=stage, **details)[0]

    def _status_actions(self, urls: list[tuple[str, str]], batch: str, state: State, *, stage: str,
                        **details: Any) -> list[Action]:
        """Status records of ``(url, url_id)`` pairs that reach ``state`` now, with the same time and details."""
        now = time.time_ns()
        common = {"batch": batch, "state": state.value, "stage": stage,
                  "updated_at": datetime.fromtimestamp(now / 1e9, UTC).isoformat(timespec="milliseconds"),
                  **{k: v for k, v in details.items() if v is not None}}
        version = now // 1000
        return [({"index": {"_index": self.status_alias, "_id": doc_id, "version": version,
                            "version_type": "external_gte"}},
                 {"url": url, "domain": domain_of(url), **common}) for url, doc_id in urls]

    def record(self, url: str, batch: str, state: State, *, stage: str, **details: Any) -> None:
        """Move the URL to ``state`` in Redis now; queue its status record for the next bulk request."""
        doc_id = url_id(url)
        self.progress.move(batch, doc_id, state)
        self.status_writer.submit(self._status_actions([(url, doc_id)], batch, state, stage=stage, **details))
        self.log_outcome(url, batch, state, stage=stage, **details)
        if state is State.SKIPPED:
            metrics.PAGES_SKIPPED.labels(reason=details.get("reason") or "unknown").inc()
        if state is State.FAILED:
            metrics.PAGES_FAILED.labels(stage=stage, reason=details.get("reason") or "unknown").inc()
            self.seen.forget(doc_id)  # so that it may be queued again without --force
            self.progress.record_failure({"url": url, "batch": batch, "stage": stage, "at": time.time(), **details})

    def record_queued(self, urls: list[tuple[str, str]], batch: str) -> tuple[list[str], Future[None]]:
        """The producer's transition for a chunk of ``(url, url_id)`` pairs: one script call, one bulk request.

        Returns the URLs that were not already queued in this batch, and the future of their status records.
        """
        moved = self.progress.move_many(batch, [doc_id for _, doc_id in urls], State.QUEUED)
        fresh = [pair for pair, was_moved in zip(urls, moved, strict=True) if was_moved]
        actions = self._status_actions(fresh, batch, State.QUEUED, stage="enqueue")
        return [url for url, _ in fresh], self.status_writer.submit(actions)

    def close(self) -> None:
        self.status_writer.close()

    @staticmethod
    def log_outcome(url: str, batch: str, state: State, *, stage: str, **details: Any) -> None:
        logger.info("%s %s", state.value, url, extra={"url": url, "batch": batch, "state": state.value,
                                                      "stage": stage, **details})
