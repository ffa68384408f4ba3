"""`readq worker` supervises its Celery worker: neither it nor its extraction processes outlive it, however it
dies."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from readq import Client
from readq._services import wait_for
from tests.support.services import WorkerProcess

pytestmark = pytest.mark.faults


def _descendants(root: int) -> set[int]:
    """Every live process below ``root`` (the Celery worker, its fork server and extraction processes), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


@pytest.fixture
def supervised(settings: Settings, client: Client, tmp_path: Path) -> Iterator[tuple[WorkerProcess, set[int]]]:
    """A `readq worker` with its Celery worker answering, and the pids of everything under it."""
    isolated = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-sup{os.getpid() % 1000}"})
    process = WorkerProcess(isolated, tmp_path / "worker.log").start()
    assert process.process is not None
    supervisor = process.process.pid
    with Client(isolated) as watcher:
        wait_for(lambda: len(watcher.workers(timeout=0.5)) >= 1, "readq worker", 120)
    started = _descendants(supervisor)
    try:
        yield process, started
    finally:
        for pid in _alive(started):  # what a failing test leaves behind
            os.kill(pid, signal.SIGKILL)
        process.stop(signal.SIGKILL, timeout=5)


def test_kill_9_of_the_supervisor_stops_its_worker_and_extraction_processes(
        supervised: tuple[WorkerProcess, set[int]]) -> None:
    process, started = supervised
    assert process.process is not None
    assert len(started) >= 3  # the Celery worker, its fork server and extraction processes

    os.kill(process.process.pid, signal.SIGKILL)

    wait_for(lambda: not _alive(started), "every process to exit after its supervisor's kill -9", 90)


def test_term_then_kill_of_the_supervisors_group_stops_everything(
        supervised: tuple[WorkerProcess, set[int]]) -> None:
    """What a process manager does: TERM to the group, KILL one second later (the supervisor's own graceful
    stop is cut short)."""
    process, started = supervised
    assert process.process is not None
    group = os.getpgid(process.process.pid)

    os.killpg(group, signal.SIGTERM)
    time.sleep(1)  # the process manager's own grace period, part of the scenario
    os.killpg(group, signal.SIGKILL)

    wait_for(lambda: not _alive(started), "every process to exit after its supervisor's group was killed", 90)
