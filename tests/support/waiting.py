"""Waiting on readq's own progress records, with a clear message when they never settle."""

from __future__ import annotations

from typing import Any

from readq import BatchProgress, Client, Document
from readq._services import wait_for
from workers.state.progress import FINAL_STATES


def wait_finished(client: Client, batch: str, timeout: float = 90) -> BatchProgress:
    def finished() -> BatchProgress | None:
        progress = client.progress(batch)
        return progress if progress is not None and progress.finished else None

    try:
        result: BatchProgress = wait_for(finished, f"batch {batch}", timeout, interval=0.3)
    except TimeoutError as exc:
        raise AssertionError(f"batch {batch} not finished: {client.progress(batch)}") from exc
    client.make_searchable()
    return result


def wait_status_records(client: Client, urls: list[str], timeout: float = 30, *, batch: str | None = None,
                        state: str | None = None) -> dict[str, dict[str, object]]:
    """The status records of ``urls`` once each shows a final state (they are flushed in bulk, a little later),
    reached in ``batch`` and being ``state`` if given: a URL queued again keeps its earlier record until the new
    one is flushed."""

    def all_final() -> dict[str, dict[str, object]] | None:
        client.runtime.es.indices.refresh(index=client.settings.status_alias)
        records = {url: client.url_status(url) for url in urls}
        final = all(r is not None and r["state"] in FINAL_STATES and batch in (None, r["batch"])
                    and state in (None, r["state"]) for r in records.values())
        return records if final else None  # type: ignore[return-value]

    result: dict[str, dict[str, object]] = wait_for(all_final, "final status records", timeout, interval=0.5)
    return result


def distinctive_word(document: Document | dict[str, Any] | None) -> str:
    """The longest word of a document's text (a Document, or `readq get --json`'s object): distinctive enough
    to find the document again."""
    assert document is not None
    text = document.text if isinstance(document, Document) else document["text"]
    return max((w.strip(".,:;!?\"'()") for w in text.split()), key=len)
