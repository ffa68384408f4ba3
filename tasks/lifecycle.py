"""The worker process's one :class:`~workers.runtime.Runtime`, closed at shutdown; and what a worker sets up
when it starts: index templates, its extraction processes, its metrics exporter, its log format.

Clients and flusher threads do not survive a fork, so a forked process that finds its parent's runtime builds a
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
    worker_init,
    worker_ready,
    worker_shutdown,
)
from elasticsearch import ApiError, TransportError
from pythonjsonlogger.json import JsonFormatter
from redis import RedisError

from config.celery import Queue
from config.settings import get_settings
from workers import metrics
from workers.indexing.elastic import install_templates
from workers.masking import MASKING_FILTER
from workers.runtime import Runtime
from workers.state.queues import queue_depths
from workers.state.sweeper import LostTaskSweeper

logger = logging.getLogger(__name__)
QUEUE_SAMPLE_SECONDS = 5.0

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
    """Every worker offers to sweep; a lock in Redis lets one of the fleet do it per interval."""
    interval = get_settings().sweep_interval
    if interval:
        threading.Thread(target=_sweep_forever, args=(interval,), name="readq-sweeper", daemon=True).start()


def _sweep_forever(interval: int) -> None:
    runtime = get_runtime()
    sweeper = LostTaskSweeper(
        redis=runtime.redis, progress=runtime.progress, prefix=runtime.settings.redis_prefix,
        requeue=lambda url, batch: current_app.send_task(Queue.FETCH.task, args=(url, batch)),
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


@worker_ready.connect
def _start_extraction(**_: object) -> None:
    """Before the first page, so that the first pages do not wait for the fork server."""
    get_runtime().extraction.start()


@worker_shutdown.connect
def _close_runtime(**_: object) -> None:
    """After the running tasks finished (a warm shutdown waits for them): flush the writers, stop the processes."""
    if _runtime is not None and _runtime[0] == os.getpid():
        _runtime[1].close()
