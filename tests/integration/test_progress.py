"""Batch counters in real Redis: exact under redelivery, and instant to read."""

from __future__ import annotations

import uuid

from readq import Client
from workers.state.progress import State


def test_counters_follow_each_url_exactly_once(client: Client) -> None:
    tracker = client.runtime.progress
    batch = f"p-{uuid.uuid4().hex[:8]}"
    assert tracker.move_many(batch, ["a", "b", "c", "a"], State.QUEUED) == [True, True, True, False]

    for url_id, state in [("a", State.INDEXED), ("a", State.INDEXED),  # redelivered
                          ("b", State.SKIPPED), ("c", State.FAILED)]:
        tracker.move_many(batch, [url_id], state)

    progress = tracker.progress(batch)
    assert progress is not None
    assert (progress.total, progress.indexed, progress.skipped, progress.failed, progress.queued) == (3, 1, 1, 1, 0)
    assert progress.finished


def test_a_batch_is_not_finished_while_a_url_is_back_in_flight(client: Client) -> None:
    tracker = client.runtime.progress
    batch = f"p-{uuid.uuid4().hex[:8]}"
    tracker.move_many(batch, ["a"], State.INDEXED)
    tracker.move_many(batch, ["a"], State.QUEUED)  # queued again with --force

    progress = tracker.progress(batch)
    assert progress is not None and not progress.finished and progress.total == 1


def test_unknown_batch_has_no_progress(client: Client) -> None:
    assert client.runtime.progress.progress("no-such-batch") is None
