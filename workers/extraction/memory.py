"""A memory limit for one extraction process: a watchdog thread that ends the process once its resident size
passes the limit, after saying why.

An exit, not ``RLIMIT_DATA``: an allocation refused by the kernel surfaces anywhere (a ``MemoryError`` deep in
libxml2, an "unknown error" from lxml), while a process that ends with :data:`MEMORY_LIMIT_EXIT_CODE` tells its
pool exactly what happened: the pool replaces it, and only the page it was working on fails.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MEMORY_LIMIT_EXIT_CODE = 86  # no Python error or signal ends a process with it


def resident_bytes() -> int:
    """This process's resident set size, from ``/proc/self/statm`` (cheap enough to read every few ms)."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


@dataclass
class MemoryWatchdog:
    limit_bytes: int
    on_exceeded: Callable[[int], None]  # called with the resident size, just before the exit
    interval: float = 0.02  # s; extraction grows by tens of MB per 20 ms at most

    def start(self) -> None:
        threading.Thread(target=self._watch, name="memory-watchdog", daemon=True).start()

    def _watch(self) -> None:
        while (resident := resident_bytes()) <= self.limit_bytes:
            time.sleep(self.interval)
        try:
            self.on_exceeded(resident)
        finally:
            os._exit(MEMORY_LIMIT_EXIT_CODE)
