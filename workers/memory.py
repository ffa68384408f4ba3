"""A memory limit for one worker process: a watchdog thread that kills the process once its resident size
passes the limit, after saying why.

A kill, not ``RLIMIT_DATA``: an allocation refused by the kernel surfaces anywhere (a ``MemoryError`` that Celery
turns into a worker shutdown, an "unknown error" from libxml2), while a killed pool child is something Celery
handles already: the task's message goes back to the queue and a new child takes its place.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    """This process's resident set size, from ``/proc/self/statm`` (cheap enough to read every few ms)."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


@dataclass
class MemoryWatchdog:
    limit_bytes: int
    on_exceeded: Callable[[int], None]  # called with the resident size, just before the kill
    interval: float = 0.02  # s; extraction grows by tens of MB per 20 ms at most

    def start(self) -> None:
        threading.Thread(target=self._watch, name="memory-watchdog", daemon=True).start()

    def _watch(self) -> None:
        while (resident := resident_bytes()) <= self.limit_bytes:
            time.sleep(self.interval)
        try:
            self.on_exceeded(resident)
        finally:
            os.kill(os.getpid(), signal.SIGKILL)
