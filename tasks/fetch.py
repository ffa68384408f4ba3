"""The page task: fetch the page politely, extract it in the worker's extraction processes, write its document.

One message carries a page from the queue to Elasticsearch and is acknowledged once Elasticsearch has the
document; a worker that dies on the way leaves it unacknowledged, and Redis gives it back.
"""

from __future__ import annotations

from config.celery import Queue, app
from tasks.base import ReadqTask
from tasks.index import index, write_document
from tasks.lifecycle import get_runtime
from workers import metrics
from workers.errors import ElasticsearchUnavailable
from workers.fetching.policy import Deferral
from workers.state.progress import State


@app.task(base=ReadqTask, name=Queue.FETCH.task, bind=True, stage=Queue.FETCH.value)
def fetch(self: ReadqTask, url: str, batch: str, slot_at: float | None = None) -> None:
    runtime = get_runtime()
    recorder = runtime.recorder
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
        recorder.record(url, batch, State.UNCHANGED, stage="fetch", http_status=304, fetch_ms=page.elapsed_ms)
        return
    recorder.log_outcome(url, batch, State.FETCHED, stage="fetch", http_status=page.status, fetch_ms=page.elapsed_ms)

    extracted = runtime.extraction.document(page, url=url, batch=batch)
    document = extracted.document
    metrics.EXTRACT_SECONDS.observe(extracted.seconds)
    recorder.log_outcome(url, batch, "extracted", stage="extract", extract_ms=round(extracted.seconds * 1000),
                         lang=document["lang"], chars=len(document["text"]))
    if previous is not None and document["content_hash"] == previous.content_hash:
        recorder.record(url, batch, State.UNCHANGED, stage="extract", http_status=page.status)
        return

    try:
        write_document(runtime, url, batch, document)
    except ElasticsearchUnavailable as exc:
        # The document waits in the index queue, retried there with the index stage's patience.
        recorder.log_outcome(url, batch, "index_deferred", stage="index", error=str(exc))
        index.apply_async(args=(url, batch, document), argsrepr=repr((url, batch)))
