"""Stage 1: fetch the page politely, leave its body in Redis, hand a claim check to the extract stage."""

from __future__ import annotations

from config.celery import app
from tasks.base import ReadqTask
from tasks.runtime import get_runtime
from workers import metrics
from workers.documents import PageRef
from workers.polite import Deferral
from workers.progress import State
from workers.urls import url_id


@app.task(base=ReadqTask, name="readq.fetch", bind=True, stage="fetch")
def fetch(self: ReadqTask, url: str, batch: str, slot_at: float | None = None) -> None:
    runtime = get_runtime()
    outcome = runtime.polite.fetch(url, batch, slot_at=slot_at)
    if isinstance(outcome, Deferral):
        metrics.PAGES_FETCHED.labels(outcome="deferred").inc()
        # Give the worker slot back and come back at the host's turn; a deferral is not a retry.
        self.apply_async(args=(url, batch), kwargs={"slot_at": outcome.slot_at}, countdown=outcome.countdown,
                         retries=self.request.retries)
        return
    page, previous = outcome
    metrics.FETCH_SECONDS.observe(page.elapsed_ms / 1000)
    metrics.FETCH_BYTES.observe(len(page.body))
    metrics.PAGES_FETCHED.labels(outcome="not_modified" if page.status == 304 else "ok").inc()
    if page.status == 304:
        runtime.recorder.record(url, batch, State.UNCHANGED, stage="fetch", http_status=304,
                                fetch_ms=page.elapsed_ms)
        return
    ref = PageRef(
        url=url, batch=batch, final_url=page.final_url, status=page.status, content_type=page.content_type,
        fetched_at=page.fetched_at, body_key=runtime.pages.put(url_id(url), page.body),
        etag=page.etag, last_modified=page.last_modified, previous_hash=previous.content_hash if previous else None,
    )
    runtime.recorder.log_outcome(url, batch, State.FETCHED, stage="fetch", http_status=page.status,
                                 fetch_ms=page.elapsed_ms)
    # By name: the extract module imports this one to re-fetch pages whose body expired.
    app.signature("readq.extract").apply_async(args=(url, batch, ref.to_dict()), argsrepr=repr((url, batch)))
