"""Watching a run from outside readq's code: queue depths, Celery task events and the workers' memory.

Each observer is a background thread started with ``start()`` and stopped with ``stop()``; ``summary()`` then
turns what it saw into plain figures.
"""

from __future__ import annotations

import itertools
import os
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery


class Observer:
    """A thread that calls ``sample()`` every ``interval`` seconds until stopped."""

    interval = 0.5

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=type(self).__name__, daemon=True)

    def start(self) -> Observer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        raise NotImplementedError


class QueueSampler(Observer):
    """``depths()`` (e.g. ``Client.queue_depths``) every 0.2 s: peak and time-weighted mean per queue."""

    interval = 0.2

    def __init__(self, depths: Callable[[], Mapping[str, int]]) -> None:
        super().__init__()
        self.depths = depths
        self.samples: list[tuple[float, Mapping[str, int]]] = []

    def sample(self) -> None:
        self.samples.append((time.perf_counter(), self.depths()))

    def summary(self) -> dict[str, dict[str, float]]:
        if len(self.samples) < 2:
            return {}
        spans = [b[0] - a[0] for a, b in zip(self.samples, self.samples[1:], strict=False)]
        total = sum(spans)
        return {
            queue: {
                "peak": max(depths[queue] for _, depths in self.samples),
                "mean": sum(d[queue] * span for (_, d), span in zip(self.samples, spans, strict=False)) / total,
            }
            for queue in self.samples[0][1]
        }


@dataclass
class TaskStats:
    """What the events of one task name add up to."""

    succeeded: int = 0
    failed: int = 0
    retried: int = 0
    deferred: int = 0  # sent with an ETA (readq's politeness deferrals and retries)
    runtimes: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # sent (or batch queued) -> task-started, without an ETA

    def to_dict(self, elapsed: float) -> dict[str, float]:
        return {
            "succeeded": self.succeeded, "failed": self.failed, "retried": self.retried, "deferred": self.deferred,
            "busy": sum(self.runtimes) / elapsed if elapsed else 0.0,  # tasks running on average
            "runtime_mean_ms": _mean(self.runtimes) * 1000, "runtime_p90_ms": _p90(self.runtimes) * 1000,
            "queue_wait_mean_ms": _mean(self.waits) * 1000, "queue_wait_p90_ms": _p90(self.waits) * 1000,
        }


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def _p90(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=10)[-1]


class TaskEvents:
    """A Celery event receiver on the app's broker: runtimes per task name, and queue waits (sent -> started).

    The producer sends no ``task-sent`` event for the fetch tasks it queues: their waits are counted from
    ``batch_queued_at`` (epoch s), when set."""

    def __init__(self, app: Celery) -> None:
        self.app = app
        self.batch_queued_at: float | None = None
        self.stats: dict[str, TaskStats] = {}
        self._names: dict[str, str] = {}
        self._sent: dict[str, tuple[float, bool]] = {}  # uuid -> (timestamp, has an ETA)
        self._receiver: Any = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="TaskEvents", daemon=True)

    def start(self) -> TaskEvents:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise TimeoutError("the Celery event receiver did not start")
        return self

    def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.should_stop = True
        self._thread.join(timeout=10)

    def summary(self, elapsed: float) -> dict[str, dict[str, float]]:
        """Figures per task name; ``elapsed`` (s) is the time watched, to say how busy each stage was."""
        return {name: stats.to_dict(elapsed) for name, stats in sorted(self.stats.items())}

    def _run(self) -> None:
        handlers = {"task-sent": self._on_sent, "task-received": self._on_received,
                    "task-started": self._on_started, "task-succeeded": self._on_succeeded,
                    "task-failed": self._on_failed, "task-retried": self._on_retried}
        with self.app.connection_for_read() as connection:
            self._receiver = self.app.events.Receiver(connection, handlers=handlers)
            self._receiver.on_consume_ready = lambda *_args, **_kwargs: self._ready.set()
            self._receiver.capture(limit=None, timeout=None, wakeup=False)

    def _task(self, event: Mapping[str, Any]) -> TaskStats:
        name = self._names.get(event["uuid"], "unknown")
        return self.stats.setdefault(name, TaskStats())

    def _on_sent(self, event: Mapping[str, Any]) -> None:
        self._names[event["uuid"]] = event["name"]
        has_eta = bool(event.get("eta"))
        self._sent[event["uuid"]] = (event["timestamp"], has_eta)
        if has_eta:
            self._task(event).deferred += 1

    def _on_received(self, event: Mapping[str, Any]) -> None:
        self._names.setdefault(event["uuid"], event["name"])

    def _on_started(self, event: Mapping[str, Any]) -> None:
        sent = self._sent.pop(event["uuid"], None)
        if sent is None and self.batch_queued_at is not None:
            sent = (self.batch_queued_at, False)
        if sent is not None and not sent[1]:
            self._task(event).waits.append(max(0.0, event["timestamp"] - sent[0]))

    def _on_succeeded(self, event: Mapping[str, Any]) -> None:
        stats = self._task(event)
        stats.succeeded += 1
        stats.runtimes.append(float(event.get("runtime") or 0.0))

    def _on_failed(self, event: Mapping[str, Any]) -> None:
        self._task(event).failed += 1

    def _on_retried(self, event: Mapping[str, Any]) -> None:
        self._task(event).retried += 1


@dataclass
class ProcessPeak:
    label: str
    peak_kib: int = 0


class RssSampler(Observer):
    """Peak VmRSS of every process in the trees under ``roots`` (label -> pid), sampled every 0.5 s."""

    interval = 0.5

    def __init__(self, roots: Mapping[str, int]) -> None:
        super().__init__()
        self.roots = dict(roots)
        self.peaks: dict[int, ProcessPeak] = {}

    def add_root(self, label: str, pid: int) -> None:
        self.roots[label] = pid

    def sample(self) -> None:
        children = _children_by_parent()
        for label, root in list(self.roots.items()):
            for pid, pid_label in _tree(root, label, children):
                rss = _rss_kib(pid)
                peak = self.peaks.setdefault(pid, ProcessPeak(pid_label))
                peak.peak_kib = max(peak.peak_kib, rss)

    def summary(self) -> dict[str, float]:
        """Peak RSS in MB per process, keyed ``label (pid)``."""
        return {f"{p.label} ({pid})": p.peak_kib / 1024 for pid, p in sorted(self.peaks.items()) if p.peak_kib}


def cpu_seconds(roots: Mapping[str, int]) -> dict[int, tuple[str, float]]:
    """CPU time so far (user + system, with that of reaped children) of every process in the trees under
    ``roots`` (label -> pid): pid -> (label, seconds). Two readings subtracted give the CPU a run used."""
    children = _children_by_parent()
    return {pid: (pid_label, _cpu_s(pid)) for label, root in roots.items()
            for pid, pid_label in _tree(root, label, children)}


def cpu_used(before: Mapping[int, tuple[str, float]], after: Mapping[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds used between two ``cpu_seconds`` readings, by label (processes started since count whole)."""
    used: dict[str, float] = {}
    for pid, (label, seconds) in after.items():
        used[label] = used.get(label, 0.0) + seconds - before.get(pid, (label, 0.0))[1]
    return used


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command's closing parenthesis: state is field 3, utime..cstime are fields 14-17.
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree(root: int, label: str, children: Mapping[int, list[int]]) -> list[tuple[int, str]]:
    """The root and its descendants, each labelled by the queues in its command line (``-Q``) or its parent's; the
    processes a Celery worker starts without a Celery command line (readq's extraction processes, their fork
    server) as ``extraction processes``."""
    found: list[tuple[int, str]] = []
    todo: list[tuple[int, str, str | None]] = [(root, label, None)]
    while todo:
        pid, inherited, parent_queue = todo.pop()
        queue = _queue_of(pid)
        if pid == root or (queue is None and parent_queue is None):
            pid_label = inherited
        elif queue is None:
            pid_label = "extraction processes"
        elif queue == parent_queue:
            pid_label = f"{inherited} child"
        else:
            pid_label = f"{queue} worker"
        found.append((pid, pid_label))
        todo.extend((child, pid_label, queue) for child in children.get(pid, []))
    return found


def _queue_of(pid: int) -> str | None:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    for flag, value in itertools.pairwise(argv):
        if flag == b"-Q":  # a Celery worker's own command line, not `readq worker --queues`
            return value.decode()
    return None


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
