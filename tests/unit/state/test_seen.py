"""The seen-set in real Redis: where a URL's entry lives, when it was queued, forgetting it, and the refetch
window it gives the producer's admission."""

from __future__ import annotations

import time

import pytest

from tests.unit.conftest import RedisNamespace
from workers.state.admission import Admission, Candidate
from workers.state.progress import ProgressTracker
from workers.state.seen import SeenSet
from workers.urls import url_id

SAME_SHARD = ("abcde" + "0" * 59, "abcde" + "1" * 59)  # two ids whose entries share one hash


def admit(ns: RedisNamespace, seen: SeenSet, ids: tuple[str, ...], *, batch: str = "b") -> list[str]:
    """Queue the ids as the producer does (the queue is a list no worker reads); their outcomes, in order."""
    admission = Admission(client=ns.client, seen=seen, progress=ProgressTracker(client=ns.client, prefix=ns.prefix,
                                                                                ttl=600),
                          queue_key=f"{ns.prefix}admitted")
    outcomes = []
    for one in ids:
        outcomes += list(admission.admit(batch, [Candidate(f"http://seen.example/{one}", one, "{}")]))
    return outcomes


def test_an_entry_is_6_bytes_of_the_id_in_one_of_2_to_the_20_hashes(redis_ns: RedisNamespace) -> None:
    seen = SeenSet(client=redis_ns.client, prefix=redis_ns.prefix, refetch_after=3600)
    identifier = url_id("http://seen.example/page")
    key, field = seen.slot(identifier)

    assert key == f"{redis_ns.prefix}seen:{identifier[:5]}"
    assert field == bytes.fromhex(identifier[5:17]) and len(field) == 6
    assert seen.slot(SAME_SHARD[0])[0] == seen.slot(SAME_SHARD[1])[0]
    assert seen.slot(SAME_SHARD[0])[1] != seen.slot(SAME_SHARD[1])[1]


def test_a_queued_url_says_when_to_the_minute_and_forgetting_it_touches_no_other(redis_ns: RedisNamespace) -> None:
    seen = SeenSet(client=redis_ns.client, prefix=redis_ns.prefix, refetch_after=3600)
    assert seen.queued_at(SAME_SHARD[0]) is None
    assert admit(redis_ns, seen, SAME_SHARD) == ["accepted", "accepted"]

    queued_at = seen.queued_at(SAME_SHARD[0])
    assert queued_at is not None and queued_at % 60 == 0
    assert queued_at == pytest.approx(time.time() // 60 * 60, abs=60)

    seen.forget(SAME_SHARD[0])
    assert seen.queued_at(SAME_SHARD[0]) is None
    assert seen.queued_at(SAME_SHARD[1]) == queued_at


def test_a_url_seen_within_the_refetch_window_is_not_queued_again_until_forgotten(redis_ns: RedisNamespace) -> None:
    seen = SeenSet(client=redis_ns.client, prefix=redis_ns.prefix, refetch_after=3600)
    assert admit(redis_ns, seen, SAME_SHARD[:1]) == ["accepted"]
    assert admit(redis_ns, seen, SAME_SHARD[:1], batch="later") == ["already_seen"]

    seen.forget(SAME_SHARD[0])  # what a failed URL gets
    assert admit(redis_ns, seen, SAME_SHARD[:1], batch="later") == ["accepted"]


def test_without_a_refetch_window_a_url_may_be_queued_again_at_once(redis_ns: RedisNamespace) -> None:
    seen = SeenSet(client=redis_ns.client, prefix=redis_ns.prefix, refetch_after=59)  # under a minute: none
    assert seen.refetch_after_minutes == 0
    assert admit(redis_ns, seen, SAME_SHARD[:1]) == ["accepted"]
    assert admit(redis_ns, seen, SAME_SHARD[:1], batch="later") == ["accepted"]
    assert seen.queued_at(SAME_SHARD[0]) is not None
    assert SeenSet(client=redis_ns.client, prefix=redis_ns.prefix, refetch_after=-60).refetch_after_minutes == 0
    assert SeenSet(client=redis_ns.client, prefix=redis_ns.prefix, refetch_after=7199).refetch_after_minutes == 119
