"""GroupedMoves with real Redis: moves from many threads reach Redis in few script calls, the counters stay exact,
a URL moved twice counts once, and a Redis failure reaches every caller of its group."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis

from tests.unit.conftest import RedisNamespace
from workers.state.admission import Admission, Candidate
from workers.state.progress import GroupedMoves, ProgressTracker, State
from workers.state.seen import SeenSet

URLS = [f"http://news.example/{i}" for i in range(40)]


class CountingTracker(ProgressTracker):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[tuple[str, int, State]] = []

    def move_many(self, batch: str, url_ids: list[str], state: State) -> list[bool]:
        self.calls.append((batch, len(url_ids), state))
        return super().move_many(batch, url_ids, state)


def admit(ns: RedisNamespace, progress: ProgressTracker, batch: str) -> None:
    seen = SeenSet(client=ns.client, prefix=ns.prefix, refetch_after=3600)
    Admission(client=ns.client, seen=seen, progress=progress, queue_key=f"{ns.prefix}admitted").admit(
        batch, [Candidate(url, f"id{i}", "{}") for i, url in enumerate(URLS)])


def test_moves_from_many_threads_are_grouped_and_counted_exactly(redis_ns: RedisNamespace) -> None:
    progress = CountingTracker(client=redis_ns.client, prefix=redis_ns.prefix, ttl=600)
    admit(redis_ns, progress, "b")
    moves = GroupedMoves(progress, flush_interval=0.2)
    start = threading.Barrier(len(URLS) + 1)
    answers: dict[int, bool] = {}

    def finish(i: int) -> None:
        start.wait()
        answers[i] = moves.move("b", f"id{i}", State.INDEXED if i % 4 else State.SKIPPED)

    threads = [threading.Thread(target=finish, args=(i,)) for i in range(len(URLS))]
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join()

    assert answers == dict.fromkeys(range(len(URLS)), True)
    counts = progress.progress("b")
    assert counts is not None and (counts.queued, counts.indexed, counts.skipped) == (0, 30, 10)
    assert counts.finished
    assert len(progress.calls) < len(URLS) / 4  # a few calls, each per batch and state
    assert {(batch, state) for batch, _, state in progress.calls} == {("b", State.INDEXED), ("b", State.SKIPPED)}
    assert moves.move("b", "id1", State.INDEXED) is False  # redelivered: already there, counted once
    assert progress.progress("b") == counts
    moves.close()


def test_a_redis_failure_reaches_every_caller_and_the_flusher_goes_on(redis_ns: RedisNamespace) -> None:
    progress = ProgressTracker(client=redis_ns.client, prefix=redis_ns.prefix, ttl=600)
    admit(redis_ns, progress, "b")
    moves = GroupedMoves(progress)
    broken = ProgressTracker(client=redis.Redis(port=1, socket_connect_timeout=0.5), prefix=redis_ns.prefix, ttl=600)
    moves.progress = broken
    with pytest.raises(redis.ConnectionError):
        moves.move("b", "id0", State.INDEXED)

    moves.progress = progress
    assert moves.move("b", "id0", State.INDEXED) is True
    counts = progress.progress("b")
    assert counts is not None and (counts.queued, counts.indexed) == (len(URLS) - 1, 1)
    moves.close()


def test_a_move_into_an_expired_batch_leaves_keys_that_expire(redis_ns: RedisNamespace) -> None:
    progress = ProgressTracker(client=redis_ns.client, prefix=redis_ns.prefix, ttl=600)
    admit(redis_ns, progress, "live")
    counters, states, _ = progress.keys("live")
    created = redis_ns.client.hget(counters, "created")
    assert progress.move_many("live", ["id0"], State.INDEXED) == [True]
    assert redis_ns.client.hget(counters, "created") == created  # a batch the producer made keeps its start

    counters, states, _ = progress.keys("gone")  # finished after its batch expired
    assert progress.move_many("gone", ["id0"], State.INDEXED) == [True]
    assert redis_ns.client.hget(counters, "indexed") == b"1"
    assert 0 < redis_ns.client.ttl(counters) <= 600 and 0 < redis_ns.client.ttl(states) <= 600
