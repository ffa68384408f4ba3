"""Every URL's state: exact counters in Redis (instant progress), and its final state as a record in
``{prefix}-status`` (queryable; in-flight states live in Redis only, so a page costs one status record).

Status records are written through a bulk indexer, never one request per transition. Each carries an external
version (microseconds since the epoch) so that, whichever process's bulk request lands last, the newest
state wins.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from workers import metrics
from workers.indexing.indexer import Action, BulkIndexer
from workers.state.progress import GroupedMoves, ProgressTracker, State
from workers.state.seen import SeenSet
from workers.urls import domain_of, url_id

logger = logging.getLogger("readq.outcome")


class StateRecorder:
    def __init__(self, *, progress: ProgressTracker, moves: GroupedMoves, status_writer: BulkIndexer,
                 seen: SeenSet, status_alias: str) -> None:
        self.progress = progress
        self.moves = moves
        self.seen = seen
        self.status_writer = status_writer
        self.status_alias = status_alias

    def status_action(self, url: str, batch: str, state: State, *, stage: str, doc_id: str | None = None,
                      **details: Any) -> Action:
        """The status record of ``url`` reaching ``state`` now."""
        now = time.time_ns()
        record = {"url": url, "domain": domain_of(url), "batch": batch, "state": state.value, "stage": stage,
                  "updated_at": datetime.fromtimestamp(now / 1e9, UTC).isoformat(timespec="milliseconds"),
                  **{k: v for k, v in details.items() if v is not None}}
        return ({"index": {"_index": self.status_alias, "_id": doc_id or url_id(url), "version": now // 1000,
                           "version_type": "external_gte"}}, record)

    def record(self, url: str, batch: str, state: State, *, stage: str, **details: Any) -> None:
        """Move the URL to a final ``state`` in Redis now; queue its status record for the next bulk request (the
        stages record nothing else: in-flight states are the producer's and Redis's alone)."""
        doc_id = url_id(url)
        self.moves.move(batch, doc_id, state)
        self.status_writer.submit([self.status_action(url, batch, state, stage=stage, doc_id=doc_id, **details)])
        self.log_outcome(url, batch, state, stage=stage, **details)
        if state is State.SKIPPED:
            metrics.PAGES_SKIPPED.labels(reason=details.get("reason") or "unknown").inc()
        if state is State.FAILED:
            metrics.PAGES_FAILED.labels(stage=stage, reason=details.get("reason") or "unknown").inc()
            self.seen.forget(doc_id)  # so that it may be queued again without --force
            self.progress.record_failure({"url": url, "batch": batch, "stage": stage, "at": time.time(), **details})

    def close(self) -> None:
        self.moves.close()
        self.status_writer.close()

    @staticmethod
    def log_outcome(url: str, batch: str, state: State | str, *, stage: str, **details: Any) -> None:
        """One ``readq.outcome`` line: a URL's state, or a stage's step (``extracted``), with its details."""
        logger.info("%s %s", state, url, extra={"url": url, "batch": batch, "state": str(state), "stage": stage,
                                                **details})
