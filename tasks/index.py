"""Writing a page's document: link it to the page it duplicates, if any, then write it through the group-commit
bulk indexer, returning once Elasticsearch has it.

The page task calls :func:`write_document` itself; the ``readq.index`` task carries a document only when
Elasticsearch was away at that moment, so that the page waits in the index queue instead of being fetched and
extracted again.
"""

from __future__ import annotations

from config.celery import Queue, app
from config.settings import get_settings
from tasks.base import ReadqTask
from tasks.lifecycle import get_runtime
from workers import metrics
from workers.errors import DuplicateContent
from workers.extraction.documents import PageDocument, document_id
from workers.runtime import Runtime
from workers.state.progress import State

_settings = get_settings()
WAIT_FOR_BULK = _settings.es_request_timeout + _settings.bulk_flush_ms / 1000 + 5  # s


def write_document(runtime: Runtime, url: str, batch: str, document: PageDocument) -> None:
    recorder = runtime.recorder
    original = runtime.duplicates.find(document, timeout=WAIT_FOR_BULK)
    if original is not None:
        if _settings.skip_duplicates:
            raise DuplicateContent(f"{url} duplicates {original}", original=original)
        document["duplicate_of"] = original
    page_action = ({"index": {"_index": _settings.pages_alias, "_id": document_id(document)}}, document)
    status_action = recorder.status_action(url, batch, State.INDEXED, stage="index",
                                           http_status=document.get("http_status"), duplicate_of=original)
    runtime.page_indexer.write([page_action, status_action], timeout=WAIT_FOR_BULK)
    recorder.moves.move(batch, document_id(document), State.INDEXED)
    metrics.PAGES_INDEXED.inc()
    recorder.log_outcome(url, batch, State.INDEXED, stage="index")


@app.task(base=ReadqTask, name=Queue.INDEX.task, bind=True, stage=Queue.INDEX.value,
          max_retries=_settings.index_max_retries,
          retry_backoff_max=min(60, _settings.visibility_timeout // 2))
def index(self: ReadqTask, url: str, batch: str, document: PageDocument) -> None:
    write_document(get_runtime(), url, batch, document)
