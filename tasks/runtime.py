"""The worker process's one :class:`~workers.runtime.Runtime`, rebuilt after a fork, flushed at shutdown; and
what a worker process sets up when it starts: index templates, its metrics exporter, its log format.

Clients and flusher threads do not survive a fork, so a prefork child that finds its parent's runtime builds a
fresh one.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any

from celery import current_app
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)
from elasticsearch import ApiError, TransportError
from pythonjsonlogger.json import JsonFormatter
from redis import RedisError

from config.celery import Queue
from config.settings import get_settings
from workers import metrics
from workers.elastic import install_templates
from workers.masking import MASKING_FILTER
from workers.memory import MemoryWatchdog
from workers.queues import queue_depths
from workers.runtime import Runtime
from workers.sweeper import LostTaskSweeper

logger = logging.getLogger(__name__)
QUEUE_SAMPLE_SECONDS = 5.0

MEMORY_KILL_MEMORY_SECONDS = 86400

_runtime: tuple[int, Runtime] | None = None
_running_task: str | None = None  # in a prefork child, which runs one task at a time


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


@worker_init.connect
def _serve_metrics(**_: object) -> None:
    port = get_settings().metrics_port
    if not port:
        return
    try:
        metrics.start_metrics_server(port, get_settings().metrics_address)
    except OSError as exc:  # another worker on this machine has the port: run on, without an exporter
        logger.warning("metrics exporter not started on port %d: %s", port, exc)
        return
    threading.Thread(target=_sample_queue_depths, name="readq-queue-depths", daemon=True).start()


def _sample_queue_depths() -> None:
    while True:
        try:
            depths = queue_depths(get_runtime().redis, get_settings().redis_prefix)
            for queue in Queue:
                metrics.QUEUE_DEPTH.labels(queue=queue.value).set(depths[queue.value])
        except RedisError as exc:
            logger.debug("queue depth sample failed: %s", exc)
        time.sleep(QUEUE_SAMPLE_SECONDS)


@worker_init.connect
def _sweep_lost_tasks(**_: object) -> None:
    """Every stage worker offers to sweep; a lock in Redis lets one of the fleet do it per interval."""
    interval = get_settings().sweep_interval
    if interval:
        threading.Thread(target=_sweep_forever, args=(interval,), name="readq-sweeper", daemon=True).start()


def _sweep_forever(interval: int) -> None:
    runtime = get_runtime()
    sweeper = LostTaskSweeper(
        redis=runtime.redis, progress=runtime.progress, prefix=runtime.settings.redis_prefix,
        requeue=lambda url, batch: current_app.send_task("readq.fetch", args=(url, batch)),
    )
    while True:
        time.sleep(interval)
        try:
            if runtime.redis.set(f"{runtime.settings.redis_prefix}sweep-lock", os.getpid(), nx=True, ex=interval):
                sweeper.sweep()
        except RedisError as exc:
            logger.info("lost-task sweep skipped: %s", exc)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _log_format(logger: logging.Logger, **_: Any) -> None:
    """JSON lines when nobody watches a terminal (or READQ_LOG_FORMAT=json): one object per event, with the
    URL, batch, stage, state, timing and reason of outcome lines as fields."""
    wanted = get_settings().log_format
    for handler in logger.handlers:
        handler.addFilter(MASKING_FILTER)  # one instance: a handler set up twice keeps one
        stream = getattr(handler, "stream", sys.stderr)
        if wanted == "json" or (wanted == "auto" and not stream.isatty()):
            handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(processName)s %(message)s"))
    # One line per Elasticsearch request would drown the outcome lines; bulk sizes and latency are metrics.
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)


def memory_kill_key(task_id: str) -> str:
    """Where a child killed by its memory limit leaves the id of the task it was running."""
    return f"{get_settings().redis_prefix}memory-kill:{task_id}"


@worker_process_init.connect
def _limit_child_memory(**_: object) -> None:
    """A prefork child (the extract stage) is killed when it passes its memory limit, so that a page that makes
    extraction balloon fails alone (``memory_limit``, after its redeliveries) instead of taking the machine."""
    limit_mb = get_settings().extract_memory_limit_mb
    if limit_mb:
        # Only such a child needs to know which task it runs (one at a time), to say which one it was killed in.
        task_prerun.connect(_task_started, weak=False)
        task_postrun.connect(_task_ended, weak=False)
        MemoryWatchdog(limit_mb * 1024 * 1024, on_exceeded=_note_memory_kill).start()


def _task_started(task_id: str | None = None, **_: object) -> None:
    global _running_task
    _running_task = task_id


def _task_ended(**_: object) -> None:
    global _running_task
    _running_task = None


def _note_memory_kill(resident: int) -> None:
    task_id = _running_task
    logger.error("pool child %d killed: %d MB resident, above READQ_EXTRACT_MEMORY_LIMIT_MB (task %s)",
                 os.getpid(), resident // 2**20, task_id)
    if task_id:
        get_runtime().redis.set(memory_kill_key(task_id), resident, ex=MEMORY_KILL_MEMORY_SECONDS)


@worker_process_shutdown.connect
def _child_gone(pid: int | None = None, **_: object) -> None:
    metrics.mark_process_dead(pid or os.getpid())
    _flush_runtime()


@worker_shutdown.connect
def _flush_on_shutdown(**_: object) -> None:
    _flush_runtime()


def _flush_runtime() -> None:
    if _runtime is not None and _runtime[0] == os.getpid():
        _runtime[1].close()
