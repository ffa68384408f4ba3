"""The lost-task sweeper against real Redis: it queues again the unfinished URLs of unfinished batches only when
the broker holds no message, at both of its looks."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from tests.unit.conftest import RedisNamespace
from workers.state import sweeper
from workers.state.admission import Admission, Candidate
from workers.state.progress import ProgressTracker, State
from workers.state.seen import SeenSet
from workers.state.sweeper import LostTaskSweeper
from workers.urls import url_id


class Setup:
    """A namespace with batches admitted as the producer admits them (their messages go to a list that is no
    broker queue: lost), a sweeper on it, and what it queued again."""

    def __init__(self, ns: RedisNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ns = ns
        self.progress = ProgressTracker(client=ns.client, prefix=ns.prefix, ttl=600)
        self.requeued: list[tuple[str, str]] = []
        self.second_looks = 0
        self.before_second_look = lambda: None
        self.sweeper = LostTaskSweeper(redis=ns.client, progress=self.progress, prefix=ns.prefix,
                                       requeue=lambda url, batch: self.requeued.append((url, batch)))
        monkeypatch.setattr(sweeper, "time", SimpleNamespace(sleep=self._confirm_wait))

    def _confirm_wait(self, seconds: float) -> None:
        assert seconds == sweeper.IDLE_CONFIRM_SECONDS
        self.second_looks += 1
        self.before_second_look()

    def batch(self, batch: str, urls: list[str]) -> None:
        seen = SeenSet(client=self.ns.client, prefix=self.ns.prefix, refetch_after=0)
        Admission(client=self.ns.client, seen=seen, progress=self.progress,
                  queue_key=f"{self.ns.prefix}lost").admit(batch, [Candidate(u, url_id(u), "{}") for u in urls])


@pytest.fixture
def setup(redis_ns: RedisNamespace, monkeypatch: pytest.MonkeyPatch) -> Setup:
    return Setup(redis_ns, monkeypatch)


def urls(name: str, n: int) -> list[str]:
    return [f"http://sweep.example/{name}/{i}" for i in range(n)]


def test_unfinished_urls_of_unfinished_batches_are_queued_again(setup: Setup,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    setup.batch("stuck", urls("stuck", 3))
    setup.progress.move_many("stuck", [url_id(urls("stuck", 3)[0])], State.INDEXED)
    setup.batch("done", urls("done", 1))
    setup.progress.move_many("done", [url_id(urls("done", 1)[0])], State.FAILED)

    with caplog.at_level(logging.WARNING, logger=sweeper.__name__):
        assert setup.sweeper.sweep() == 2

    assert sorted(setup.requeued) == [(url, "stuck") for url in urls("stuck", 3)[1:]]
    assert setup.second_looks == 1
    assert "batch stuck: queued 2 URLs again whose task message was lost (0 whose URL" in caplog.text


@pytest.mark.parametrize("queue", ["fetch", "index"])
def test_nothing_is_queued_again_while_a_queue_holds_a_message(setup: Setup, queue: str) -> None:
    setup.batch("busy", urls("busy", 2))
    setup.ns.client.lpush(f"{setup.ns.prefix}{queue}", "message")

    assert setup.sweeper.sweep() == 0
    assert (setup.requeued, setup.second_looks) == ([], 0)


def test_a_message_seen_at_the_second_look_stops_the_sweep(setup: Setup) -> None:
    setup.batch("racing", urls("racing", 2))
    # the message a worker took off the queue shows up in kombu's unacked hash meanwhile
    setup.before_second_look = lambda: setup.ns.client.hset(f"{setup.ns.prefix}unacked", "tag", "message")

    assert setup.sweeper.sweep() == 0
    assert (setup.requeued, setup.second_looks) == ([], 1)


def test_finished_batches_cost_no_second_look(setup: Setup) -> None:
    setup.batch("finished", urls("finished", 2))
    setup.progress.move_many("finished", [url_id(u) for u in urls("finished", 2)], State.INDEXED)

    assert setup.sweeper.sweep() == 0
    assert (setup.requeued, setup.second_looks) == ([], 0)


def test_a_url_redis_does_not_hold_is_counted_not_queued(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    setup.batch("partial", urls("partial", 1))
    setup.progress.move_many("partial", ["0" * 64], State.QUEUED)  # an entry without its URL

    with caplog.at_level(logging.WARNING, logger=sweeper.__name__):
        assert setup.sweeper.sweep() == 1

    assert setup.requeued == [(urls("partial", 1)[0], "partial")]
    assert "queued 1 URLs again whose task message was lost (1 whose URL Redis does not hold)" in caplog.text

