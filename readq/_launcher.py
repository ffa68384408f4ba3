"""How readq's processes start: the Celery worker, and the processes ``readq dev`` runs beside it, supervised
together.

A worker runs every stage of a page: threads fetch (waiting on remote servers costs no CPU) and write to
Elasticsearch (many threads share one ``_bulk``), a pool of processes it owns extracts (one per core).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO

from config.celery import Queue
from config.settings import Settings

STOP_GRACE_SECONDS = 30.0  # for processes that run no readq task (Flower, services started by `readq dev`)
STOP_MARGIN_SECONDS = 10.0  # beyond the longest task: the worker's own shutdown (flushes, acks)
INDEX_WAIT_MARGIN_SECONDS = 5.0  # what a page waits for its write beyond the request timeout and the flush interval
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def longest_task_seconds(settings: Settings) -> float:
    """How long one page can take, so how long a warm shutdown must wait before it kills the worker."""
    fetch = 2 * settings.fetch_deadline + settings.es_request_timeout  # robots.txt, the page, the indexed version
    # the near-duplicate lookup and the bulk write, each waited for up to the request timeout
    index = 2 * (settings.es_request_timeout + settings.bulk_flush_ms / 1000 + INDEX_WAIT_MARGIN_SECONDS)
    return fetch + settings.extract_time_limit + index


def stop_grace_seconds(settings: Settings) -> float:
    """How long `readq worker` waits after SIGTERM before it kills its Celery worker."""
    return longest_task_seconds(settings) + STOP_MARGIN_SECONDS


def worker_command(settings: Settings, *, concurrency: int | None = None, loglevel: str = "INFO") -> list[str]:
    """The ``celery worker`` command line: page messages and documents waiting for Elasticsearch."""
    return [
        sys.executable, "-m", "celery", "-A", "config.celery", "worker",
        "-Q", ",".join(queue.value for queue in Queue),
        "-n", f"readq-{os.getpid()}@%h",
        "-c", str(concurrency or settings.fetch_concurrency),
        "--loglevel", loglevel,
        *(["-E"] if settings.task_events else []),
        # Gossip and mingle talk worker-to-worker, which readq never needs; gossip's channel is also the one that
        # trips kombu when Redis restarts (celery/kombu#582), so both stay off.
        "--without-gossip", "--without-mingle",
        "-P", "threads",
    ]


def worker_env(settings: Settings, base: Mapping[str, str], *, concurrency: int | None = None,
               processes: int | None = None) -> dict[str, str]:
    """The worker's environment. Threads and processes given on the command line become its settings too, so
    that it sizes its Redis pools for its threads."""
    env = dict(base)
    if concurrency is not None:
        env["READQ_FETCH_CONCURRENCY"] = str(concurrency)
    if processes is not None:
        env["READQ_EXTRACT_CONCURRENCY"] = str(processes)
    return env


def flower_command(settings: Settings, *, address: str = "127.0.0.1") -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "config.celery", "flower",
            f"--port={settings.flower_port}", f"--address={address}"]


def flower_env(settings: Settings, base: Mapping[str, str]) -> dict[str, str]:
    """Flower's environment: its basic-auth credentials go there (Flower reads ``FLOWER_*`` options), never on
    a command line that ``ps`` shows."""
    env = dict(base)
    if settings.flower_basic_auth is not None:
        env["FLOWER_BASIC_AUTH"] = settings.flower_basic_auth.get_secret_value()
    return env


@dataclass
class Supervisor:
    """Runs processes side by side; when one exits, or on Ctrl-C or SIGTERM, stops them all."""

    processes: list[tuple[str, subprocess.Popen[bytes], int]] = field(default_factory=list)
    stop_grace: float = STOP_GRACE_SECONDS  # s between SIGTERM and SIGKILL
    _stopping: bool = False

    def start(self, name: str, command: list[str], *, tier: int = 1, env: dict[str, str] | None = None,
              output: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
        """Start a process. Higher tiers stop first: workers (1) before the services they need (0)."""
        # Its own process group, so that stopping it reaches its pool children too; and a death signal, so that
        # it stops when this supervisor dies, however it dies (kill -9, or a process manager killing its group).
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT if output else None,
                                   start_new_session=True, preexec_fn=_die_with(os.getpid()))
        self.processes.append((name, process, tier))
        return process

    def run(self) -> int:
        """Wait until a process exits or a stop signal arrives; return the exit code to report."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not self._stopping:
                for name, process, _tier in self.processes:
                    code = process.poll()
                    if code is not None:
                        print(f"readq: {name} exited with code {code}; stopping the rest", file=sys.stderr)
                        self.stop()
                        return code or 1
                time.sleep(0.5)
            self.stop()
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._stopping = True

    def stop(self) -> None:
        """Tier by tier, SIGTERM every group (Celery's warm shutdown finishes or returns running tasks), then
        SIGKILL what is still running after the grace period."""
        for tier in sorted({tier for _, _, tier in self.processes}, reverse=True):
            group = [process for _, process, t in self.processes if t == tier]
            for process in group:
                _signal_group(process, signal.SIGTERM)
            deadline = time.monotonic() + self.stop_grace
            for process in group:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.wait()


def _die_with(parent: int) -> Callable[[], None]:
    """What a started process runs before its program: on Linux, ask the kernel for SIGTERM (a warm shutdown for
    Celery) when ``parent`` dies; if it died already, before the request took effect, exit at once."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None

    def arm() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return arm


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
