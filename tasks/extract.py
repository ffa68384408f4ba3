"""Stage 2: take the fetched body from Redis, extract the article, hand the document to the index stage.

Nothing here waits on Elasticsearch: the near-duplicate search belongs to the index stage, whose threads share
one ``_msearch`` per group, so that extract processes only compute."""

from __future__ import annotations

import time
from typing import Any

from config.celery import app
from config.settings import get_settings
from tasks.base import ReadqTask
from tasks.fetch import fetch
from tasks.index import index
from tasks.runtime import get_runtime
from workers import metrics
from workers.decoding import decode_html
from workers.documents import PageRef, build_document
from workers.errors import PageExpired
from workers.progress import State

_settings = get_settings()


@app.task(
    base=ReadqTask, name="readq.extract", bind=True, stage="extract",
    time_limit=_settings.extract_time_limit, soft_time_limit=max(1.0, _settings.extract_time_limit - 5),
)
def extract(self: ReadqTask, url: str, batch: str, page: dict[str, Any]) -> None:
    runtime = get_runtime()
    ref = PageRef.from_dict(page)
    try:
        body = runtime.pages.get(ref.body_key)
    except PageExpired as exc:
        runtime.recorder.log_outcome(url, batch, State.QUEUED, stage="extract", reason=exc.reason)
        fetch.apply_async(args=(url, batch))
        return
    started = time.perf_counter()
    extraction = runtime.extractor.extract(decode_html(body, ref.content_type), ref.final_url)
    elapsed = time.perf_counter() - started
    metrics.EXTRACT_SECONDS.observe(elapsed)
    runtime.recorder.log_outcome(url, batch, "extracted", stage="extract", extract_ms=round(elapsed * 1000),
                                 lang=extraction.lang, chars=len(extraction.text))
    document = build_document(url=url, final_url=ref.final_url, fetched_at=ref.fetched_at, http_status=ref.status,
                              batch=batch, extraction=extraction, etag=ref.etag, last_modified=ref.last_modified)
    if document["content_hash"] == ref.previous_hash:
        runtime.recorder.record(url, batch, State.UNCHANGED, stage="extract", http_status=ref.status)
    else:
        index.apply_async(args=(url, batch, document), argsrepr=repr((url, batch)))
    runtime.pages.delete(ref.body_key)

