"""Group commit: a group goes out on size, on bytes, on time, on flush and on close; each unit's future is
settled by the send; a closed committer refuses work."""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import Any

import pytest

from workers.errors import IndexingError
from workers.groupcommit import GroupCommit, Unit

NEVER = 3600.0  # a flush interval no test waits out
SETTLED = 10.0  # s a future may take to settle once its group is due


class Recorder(GroupCommit[str]):
    """Sends nothing: records each group and settles each unit with its item upper-cased, or fails the group
    whose first item is ``"boom"``."""

    def __init__(self, **options: Any) -> None:
        self.groups: list[list[str]] = []
        super().__init__(name="test-groupcommit", **{"flush_interval": NEVER, "max_items": 100, **options})

    def submit(self, item: str, size: int = 0) -> Future[Any]:
        return self._enqueue(item, size)

    def _send(self, units: list[Unit[str]]) -> None:
        self.groups.append([unit.item for unit in units])
        for unit in units:
            if units[0].item == "boom":
                unit.future.set_exception(IndexingError("the group failed"))
            else:
                unit.future.set_result(unit.item.upper())


@pytest.fixture
def committers() -> Any:
    started: list[Recorder] = []

    def make(**options: Any) -> Recorder:
        started.append(Recorder(**options))
        return started[-1]

    yield make
    for committer in started:
        committer.close(timeout=5)


def test_a_group_goes_out_when_max_items_wait(committers: Any) -> None:
    committer = committers(max_items=3)
    futures = [committer.submit(item) for item in ("a", "b", "c")]

    assert [future.result(SETTLED) for future in futures] == ["A", "B", "C"]
    assert committer.groups == [["a", "b", "c"]]
    fourth = committer.submit("d")
    assert not fourth.done()  # one unit is below every trigger
    assert committer.groups == [["a", "b", "c"]]


def test_a_group_goes_out_when_max_bytes_are_buffered(committers: Any) -> None:
    committer = committers(max_bytes=100)
    first = committer.submit("small", size=60)
    assert not first.done()
    second = committer.submit("large", size=60)

    assert (first.result(SETTLED), second.result(SETTLED)) == ("SMALL", "LARGE")
    assert committer.groups == [["small", "large"]]


def test_a_lone_unit_goes_out_when_it_has_waited_the_flush_interval(committers: Any) -> None:
    committer = committers(flush_interval=0.3)
    started = time.monotonic()
    future = committer.submit("late")

    assert future.result(SETTLED) == "LATE"
    assert time.monotonic() - started >= 0.3
    assert committer.groups == [["late"]]


def test_flush_sends_what_is_pending_at_once(committers: Any) -> None:
    committer = committers()
    futures = [committer.submit(item) for item in ("x", "y")]
    committer.flush()

    assert [future.result(SETTLED) for future in futures] == ["X", "Y"]
    assert committer.groups == [["x", "y"]]


def test_close_sends_what_is_pending_then_refuses_work(committers: Any) -> None:
    committer = committers()
    futures = [committer.submit(item) for item in ("p", "q")]
    committer.close(timeout=SETTLED)

    assert [future.result(0) for future in futures] == ["P", "Q"]
    assert committer.groups == [["p", "q"]]
    assert not committer._thread.is_alive()
    with pytest.raises(IndexingError, match="test-groupcommit is closed"):
        committer.submit("after")
    assert committer.groups == [["p", "q"]]


def test_each_unit_s_future_is_settled_by_its_group_s_send(committers: Any) -> None:
    committer = committers(max_items=2)
    failed = [committer.submit("boom"), committer.submit("also")]
    for future in failed:
        with pytest.raises(IndexingError, match="the group failed"):
            future.result(SETTLED)
    fine = [committer.submit("ok"), committer.submit("good")]  # the flusher lived on

    assert [future.result(SETTLED) for future in fine] == ["OK", "GOOD"]
    assert committer.groups == [["boom", "also"], ["ok", "good"]]


def test_units_put_back_go_first_and_only_the_newest_are_kept(committers: Any) -> None:
    committer = committers()
    with committer._wakeup:  # the flusher cannot take the pending units meanwhile
        committer._pending = [Unit("new1", 1), Unit("new2", 1)]
        committer._pending_bytes = 2
    returned = [Unit("old1", 5), Unit("old2", 5)]

    dropped = committer._put_back(returned, keep=3, wait=0)

    assert [unit.item for unit in dropped] == ["old1"]
    assert [unit.item for unit in committer._pending] == ["old2", "new1", "new2"]
    assert committer._pending_bytes == 7


def test_an_answer_waited_for_comes_back_or_its_timeout_says_so(committers: Any) -> None:
    answering = committers(flush_interval=0.01)
    assert answering._answer_within("a", SETTLED) == "A"

    silent = committers(max_bytes=10**9)  # never due within the test: no answer comes
    assert silent._answer_within("b", 0.05) is None
    with pytest.raises(TimeoutError, match="too slow") as raised:
        silent._answer_within("c", 0.05, size=3, or_raise=TimeoutError("too slow"))
    assert raised.value.__cause__ is not None
    assert silent._pending_bytes == 3  # the size counts toward the byte trigger
