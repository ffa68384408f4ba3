"""The worker process's one :class:`~workers.runtime.Runtime`, rebuilt after a fork, flushed at shutdown.

Clients and flusher threads do not survive a fork, so a prefork child that finds its parent's runtime builds a
fresh one.
"""

from __future__ import annotations

import os

from celery.signals import worker_process_shutdown, worker_shutdown

from config.settings import get_settings
from workers.runtime import Runtime

_runtime: tuple[int, Runtime] | None = None


def get_runtime() -> Runtime:
    global _runtime
    if _runtime is None or _runtime[0] != os.getpid():
        _runtime = (os.getpid(), Runtime(get_settings()))
    return _runtime[1]


@worker_process_shutdown.connect
@worker_shutdown.connect
def _flush_on_shutdown(**_: object) -> None:
    if _runtime is not None and _runtime[0] == os.getpid():
        _runtime[1].close()
