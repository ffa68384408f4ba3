"""Group commit: many threads submit work, one background thread sends what is pending as one request.

A request goes out when ``max_items`` units wait, ``max_bytes`` are buffered, or the oldest unit has waited
``flush_interval`` seconds. Subclasses say how to send a group and settle each unit's future.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from workers.errors import IndexingError

ItemT = TypeVar("ItemT")


@dataclass
class Unit(Generic[ItemT]):
    item: ItemT
    size: int
    future: Future[Any] = field(default_factory=Future)
    queued_at: float = field(default_factory=time.monotonic)


class GroupCommit(Generic[ItemT]):
    def __init__(self, *, max_items: int, flush_interval: float, max_bytes: int = 0, name: str) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.flush_interval = flush_interval
        self._pending: list[Unit[ItemT]] = []
        self._pending_bytes = 0
        self._wakeup = threading.Condition()
        self._closed = False
        self._flush_now = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _send(self, units: list[Unit[ItemT]]) -> None:
        """Send one group and settle every unit's future (the flusher thread must survive anything)."""
        raise NotImplementedError

    def _enqueue(self, item: ItemT, size: int = 0) -> Future[Any]:
        unit = Unit(item=item, size=size)
        with self._wakeup:
            if self._closed:
                raise IndexingError(f"{self._thread.name} is closed")
            self._pending.append(unit)
            self._pending_bytes += size
            first = len(self._pending) == 1  # the flusher sleeps until something is pending: start its clock
            if first or self._full():
                self._wakeup.notify()
        return unit.future

    def _answer_within(self, item: ItemT, timeout: float, *, size: int = 0, or_raise: Exception | None = None) -> Any:
        """Submit ``item`` and wait for its answer; when none comes within ``timeout`` seconds, raise ``or_raise``,
        or answer None if there is none."""
        try:
            return self._enqueue(item, size).result(timeout=timeout)
        except FutureTimeout as exc:
            if or_raise is not None:
                raise or_raise from exc
            return None

    @staticmethod
    def _settle(units: list[Unit[ItemT]], answers: Callable[[], Sequence[Any]]) -> None:
        """Settle each unit's future with its answer from ``answers()``, or all of them with what it raised (the
        flusher thread must survive anything and still answer every caller)."""
        try:
            results = answers()
        except Exception as exc:
            for unit in units:
                unit.future.set_exception(exc)
            return
        for unit, result in zip(units, results, strict=True):
            unit.future.set_result(result)

    def flush(self) -> None:
        """Send what is pending now instead of waiting for the size or time trigger."""
        with self._wakeup:
            self._flush_now = True
            self._wakeup.notify()

    def close(self, timeout: float = 30.0) -> None:
        """Send what is pending and stop the flusher thread."""
        with self._wakeup:
            self._closed = True
            self._wakeup.notify()
        self._thread.join(timeout)

    def _put_back(self, units: list[Unit[ItemT]], keep: int, wait: float) -> list[Unit[ItemT]]:
        """Put units in front of the pending ones, keep the newest ``keep`` of all, wait ``wait`` seconds (or
        until closed); return the units that did not fit."""
        with self._wakeup:
            everything = units + self._pending
            self._pending, dropped = everything[-keep:], everything[:-keep]
            self._pending_bytes = sum(unit.size for unit in self._pending)
            self._wakeup.wait(wait)
        return dropped

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._due():
                    if self._closed and not self._pending:
                        return
                    self._wakeup.wait(self._time_left())
                units, self._pending, self._pending_bytes, self._flush_now = self._pending, [], 0, False
            self._send(units)

    def _full(self) -> bool:
        return len(self._pending) >= self.max_items or bool(self.max_bytes and self._pending_bytes >= self.max_bytes)

    def _due(self) -> bool:
        time_left = self._time_left()
        if time_left is None:
            return False
        return self._closed or self._flush_now or self._full() or time_left <= 0

    def _time_left(self) -> float | None:
        if not self._pending:
            return None
        return self.flush_interval - (time.monotonic() - self._pending[0].queued_at)
