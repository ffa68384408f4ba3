"""The worker process's one :class:`~workers.runtime.Runtime`, rebuilt after a fork, flushed at shutdown.

Clients and flusher threads do not survive a fork, so a prefork child that finds its parent's runtime builds a
fresh one.
"""

from __future__ import annotations

import logging
import os

from celery.signals import worker_process_shutdown, worker_ready, worker_shutdown
from elasticsearch import ApiError, TransportError

from config.settings import get_settings
from workers.elastic import install_templates
from workers.runtime import Runtime

logger = logging.getLogger(__name__)

_runtime: tuple[int, Runtime] | None = None


def get_runtime() -> Runtime:
    global _runtime
    if _runtime is None or _runtime[0] != os.getpid():
        _runtime = (os.getpid(), Runtime(get_settings()))
    return _runtime[1]


@worker_ready.connect
def _ensure_templates(**_: object) -> None:
    """Before the first status record, so Elasticsearch never auto-creates an index where an alias belongs."""
    runtime = get_runtime()
    try:
        install_templates(runtime.es, runtime.settings)
    except (ApiError, TransportError) as exc:
        logger.warning("could not install index templates (is Elasticsearch up?): %s", exc)


@worker_process_shutdown.connect
@worker_shutdown.connect
def _flush_on_shutdown(**_: object) -> None:
    if _runtime is not None and _runtime[0] == os.getpid():
        _runtime[1].close()
