"""The fleet's per-host schedule in real Redis: start slots spaced by the host's interval, a bounded number of
leases, penalties, backoff after connection errors."""

from __future__ import annotations

import threading

import pytest
import redis

from readq._services import wait_for
from tests.unit.conftest import RedisNamespace
from workers.fetching.politeness import HostGate, Lease

HOST = "news.example:8080"
SLACK = 0.25  # s: Redis's clock moves between two calls of a test


def make_gate(ns: RedisNamespace, **overrides: object) -> HostGate:
    options: dict[str, object] = {"requests_per_second": 2.0, "rate_limits": {}, "max_concurrency": 2,
                                  "lease_seconds": 60, "error_threshold": 3, "backoff_max": 600}
    options.update(overrides)
    return HostGate(client=ns.client, prefix=ns.prefix, **options)  # type: ignore[arg-type]


def test_slots_are_handed_out_one_interval_apart(redis_ns: RedisNamespace) -> None:
    gate = make_gate(redis_ns)
    waits = [gate.reserve(HOST, 0.5, max_wait=10) for _ in range(3)]

    assert waits[0][0] == 0 and waits[0][1] is not None  # a slot that is now comes leased
    assert waits[1][0] == pytest.approx(0.5, abs=SLACK) and waits[1][1] is None
    assert waits[2][0] == pytest.approx(1.0, abs=SLACK) and waits[2][1] is None
    assert gate.reserve("other.example", 0.5, max_wait=10)[0] == 0  # hosts do not share a schedule


def test_a_slot_further_than_max_wait_is_not_reserved(redis_ns: RedisNamespace) -> None:
    gate = make_gate(redis_ns)
    gate.reserve(HOST, 5.0, max_wait=10)

    assert gate.reserve(HOST, 5.0, max_wait=1) == (None, None)
    wait, _ = gate.reserve(HOST, 5.0, max_wait=10)
    assert wait == pytest.approx(5.0, abs=SLACK)  # the refused call took nothing: the next slot is still 5 s away


def test_leases_are_limited_per_host_and_released(redis_ns: RedisNamespace) -> None:
    gate = make_gate(redis_ns, max_concurrency=2)
    first, second = gate.lease(HOST), gate.lease(HOST)
    assert first is not None and second is not None and first != second
    assert gate.lease(HOST) is None
    assert gate.lease("other.example") is not None

    gate.release(first)
    third = gate.lease(HOST)
    assert third is not None
    assert gate.lease(HOST) is None


def test_leases_given_back_by_many_threads_go_out_together(redis_ns: RedisNamespace,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    gate = make_gate(redis_ns, max_concurrency=20)
    leases = [gate.lease(HOST) for _ in range(20)]
    assert all(leases) and gate.lease(HOST) is None
    pipelines: list[int] = []
    pipeline = gate.client.pipeline

    def counted(*args: object, **kwargs: object) -> object:
        pipelines.append(1)
        return pipeline(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gate.client, "pipeline", counted)
    start = threading.Barrier(20)

    def release(lease: Lease) -> None:
        start.wait()
        gate.release(lease, answered=True)

    threads = [threading.Thread(target=release, args=(lease,)) for lease in leases if lease is not None]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 1 <= len(pipelines) < 5
    assert redis_ns.client.zcard(f"{redis_ns.prefix}host:{HOST}:leases") == 0  # each returned once Redis had it
    gate.close()


def test_a_failed_release_reaches_its_caller(redis_ns: RedisNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = make_gate(redis_ns, max_concurrency=1)
    lease = gate.lease(HOST)
    assert lease is not None

    def broken(*args: object, **kwargs: object) -> object:
        raise redis.ConnectionError("Redis went away")

    monkeypatch.setattr(gate.client, "pipeline", broken)
    with pytest.raises(redis.ConnectionError, match="went away"):
        gate.release(lease)
    monkeypatch.undo()
    assert gate.lease(HOST) is None  # still held: it expires by itself
    gate.close()


def test_a_lease_a_dead_worker_kept_expires(redis_ns: RedisNamespace) -> None:
    gate = make_gate(redis_ns, max_concurrency=1, lease_seconds=0.3)
    assert gate.lease(HOST) is not None  # never released
    assert gate.lease(HOST) is None

    assert wait_for(lambda: gate.lease(HOST), "the lease to expire", timeout=10, interval=0.05) is not None


def test_expired_leases_are_swept_when_the_host_looks_full(redis_ns: RedisNamespace) -> None:
    gate = make_gate(redis_ns, max_concurrency=2, lease_seconds=0.3)
    leases = f"{redis_ns.prefix}host:{HOST}:leases"
    assert gate.lease(HOST) is not None and gate.lease(HOST) is not None  # both never released
    assert wait_for(lambda: gate.lease(HOST), "the leases to expire", timeout=10, interval=0.05) is not None
    assert gate.lease(HOST) is not None
    assert gate.lease(HOST) is None  # two live leases: full again
    assert redis_ns.client.zcard(leases) == 2  # the dead ones are gone, not kept beside them


def test_penalize_pushes_the_next_slot_out_but_never_in_and_at_most_backoff_max(redis_ns: RedisNamespace) -> None:
    gate = make_gate(redis_ns, backoff_max=20)
    gate.penalize(HOST, 8)
    gate.penalize(HOST, 2)  # a shorter penalty does not shorten the longer one
    assert gate.reserve(HOST, 0.5, max_wait=600)[0] == pytest.approx(8, abs=SLACK)

    gate.penalize("capped.example", 3600)
    assert gate.reserve("capped.example", 0.5, max_wait=3600)[0] == pytest.approx(20, abs=SLACK)


def test_connection_errors_back_off_exponentially_from_the_threshold(redis_ns: RedisNamespace) -> None:
    gate = make_gate(redis_ns, error_threshold=2)
    gate.connection_failed(HOST, 1.0)
    assert gate.reserve(HOST, 0.01, max_wait=600)[0] == 0  # below the threshold: no backoff

    gate.connection_failed(HOST, 1.0)
    assert gate.reserve(HOST, 0.01, max_wait=600)[0] == pytest.approx(2, abs=SLACK)
    gate.connection_failed(HOST, 1.0)
    assert gate.reserve(HOST, 0.01, max_wait=600)[0] == pytest.approx(4, abs=SLACK)

    gate.release(Lease(HOST, "unheld"))  # a release that does not say the host answered keeps the count
    assert redis_ns.client.exists(f"{redis_ns.prefix}host:{HOST}:errors")
    gate.release(Lease(HOST, "unheld"), answered=True)
    assert not redis_ns.client.exists(f"{redis_ns.prefix}host:{HOST}:errors")
    gate.connection_failed("fresh.example", 1.0)
    gate.release(Lease("fresh.example", "unheld"), answered=True)
    gate.connection_failed("fresh.example", 1.0)  # counting starts again: still below the threshold
    assert gate.reserve("fresh.example", 0.01, max_wait=600)[0] == 0


def test_the_interval_is_the_host_s_rate_or_its_crawl_delay_if_slower(redis_ns: RedisNamespace) -> None:
    gate = make_gate(redis_ns, rate_limits={"*.slow.example": 0.5})
    assert gate.interval("news.example") == 0.5
    assert gate.interval("a.slow.example:8443") == 2.0  # the port is not part of the pattern's match
    assert gate.interval("news.example", crawl_delay=3.0) == 3.0
    assert gate.interval("a.slow.example", crawl_delay=1.0) == 2.0
