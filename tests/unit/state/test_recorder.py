"""StateRecorder with real Redis: a final state moves the URL's counters, queues its versioned status record,
logs one outcome line, counts skips and failures, and a failed URL leaves the seen-set and joins recent
failures."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.unit.conftest import RedisNamespace
from workers.indexing.indexer import Action
from workers.state.admission import Admission, Candidate
from workers.state.progress import GroupedMoves, ProgressTracker, State
from workers.state.recorder import StateRecorder
from workers.state.seen import SeenSet
from workers.urls import url_id

URL = "http://news.example:8080/a"
STATUS = "t-status"


class StatusWriter:
    """Stands in for the bulk indexer: keeps what it is given."""

    def __init__(self) -> None:
        self.actions: list[Action] = []
        self.closed = False

    def submit(self, actions: list[Action]) -> None:
        self.actions += actions

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def parts(redis_ns: RedisNamespace) -> Iterator[tuple[StateRecorder, StatusWriter, ProgressTracker, SeenSet]]:
    progress = ProgressTracker(client=redis_ns.client, prefix=redis_ns.prefix, ttl=600)
    seen = SeenSet(client=redis_ns.client, prefix=redis_ns.prefix, refetch_after=3600)
    writer = StatusWriter()
    recorder = StateRecorder(progress=progress, moves=GroupedMoves(progress), status_writer=writer,  # type: ignore[arg-type]
                             seen=seen, status_alias=STATUS)
    Admission(client=redis_ns.client, seen=seen, progress=progress, queue_key=f"{redis_ns.prefix}admitted").admit(
        "b", [Candidate(URL, url_id(URL), "{}")])
    yield recorder, writer, progress, seen
    recorder.close()


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"{name}_total", labels) or 0.0


def test_a_status_record_is_versioned_so_the_newest_state_wins(parts: Any) -> None:
    recorder: StateRecorder = parts[0]
    before = time.time_ns() // 1000
    meta, record = recorder.status_action(URL, "b", State.SKIPPED, stage="fetch", reason="robots", error=None)
    later, _ = recorder.status_action(URL, "b", State.INDEXED, stage="index")

    assert meta["index"]["_index"] == STATUS and meta["index"]["_id"] == url_id(URL)
    assert meta["index"]["version_type"] == "external_gte"
    assert before <= meta["index"]["version"] <= later["index"]["version"] <= time.time_ns() // 1000
    assert record is not None
    assert {k: v for k, v in record.items() if k != "updated_at"} == {
        "url": URL, "domain": "news.example", "batch": "b", "state": "skipped", "stage": "fetch",
        "reason": "robots"}  # details that are None are left out
    updated = datetime.fromisoformat(record["updated_at"])
    assert abs(updated.timestamp() - meta["index"]["version"] / 1e6) < 0.001


def test_an_indexed_url_is_counted_recorded_and_logged(parts: Any, caplog: pytest.LogCaptureFixture) -> None:
    recorder, writer, progress, seen = parts
    with caplog.at_level(logging.INFO, logger="readq.outcome"):
        recorder.record(URL, "b", State.INDEXED, stage="index", language="de")

    counts = progress.progress("b")
    assert counts is not None and (counts.queued, counts.indexed, counts.finished) == (0, 1, True)
    assert [(meta["index"]["_id"], record["state"], record["language"]) for meta, record in writer.actions] == [
        (url_id(URL), "indexed", "de")]
    assert seen.queued_at(url_id(URL)) is not None  # an indexed URL stays seen
    assert progress.recent_failures() == []
    [line] = [r for r in caplog.records if r.name == "readq.outcome"]
    assert line.getMessage() == f"indexed {URL}"
    assert (line.url, line.batch, line.state, line.stage, line.language) == (  # type: ignore[attr-defined]
        URL, "b", "indexed", "index", "de")


def test_a_failed_url_is_forgotten_by_the_seen_set_and_joins_recent_failures(parts: Any) -> None:
    recorder, writer, progress, seen = parts
    failed_before = counted("readq_pages_failed", stage="fetch", reason="http_status")
    recorder.record(URL, "b", State.FAILED, stage="fetch", reason="http_status", http_status=404)

    counts = progress.progress("b")
    assert counts is not None and (counts.queued, counts.failed) == (0, 1)
    assert seen.queued_at(url_id(URL)) is None  # so that it may be queued again without --force
    [failure] = progress.recent_failures()
    assert {k: failure[k] for k in ("url", "batch", "stage", "reason", "http_status")} == {
        "url": URL, "batch": "b", "stage": "fetch", "reason": "http_status", "http_status": 404}
    assert failure["at"] == pytest.approx(time.time(), abs=60)
    assert [record["state"] for _, record in writer.actions] == ["failed"]
    assert counted("readq_pages_failed", stage="fetch", reason="http_status") == failed_before + 1


def test_a_skipped_url_is_counted_by_reason_and_stays_seen(parts: Any) -> None:
    recorder, writer, progress, seen = parts
    skipped_before = counted("readq_pages_skipped", reason="robots")
    recorder.record(URL, "b", State.SKIPPED, stage="fetch", reason="robots")

    assert counted("readq_pages_skipped", reason="robots") == skipped_before + 1
    assert seen.queued_at(url_id(URL)) is not None
    assert progress.recent_failures() == []
    counts = progress.progress("b")
    assert counts is not None and counts.skipped == 1
    assert [record["reason"] for _, record in writer.actions] == ["robots"]


def test_close_closes_the_status_writer(parts: Any) -> None:
    recorder, writer, _, _ = parts
    assert not writer.closed
    recorder.close()
    assert writer.closed
