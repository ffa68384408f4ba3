"""The Celery app: queues, routes and the reliability settings every readq worker shares.

``celery -A config.celery worker`` and ``celery -A config.celery flower`` work as for any Celery app.
"""

from __future__ import annotations

from enum import StrEnum

from celery import Celery

from config.broker import use_for_redis_urls
from config.settings import Settings, get_settings


class Queue(StrEnum):
    """A stage's queue, named once: page messages wait in ``fetch``; a document waits in ``index`` only while
    Elasticsearch is away. Hand-offs run one way, fetch to index."""

    FETCH = "fetch"
    INDEX = "index"

    @property
    def task(self) -> str:
        """The name of the task whose messages wait in this queue (what Flower and the messages in Redis show)."""
        return f"readq.{self.value}"


RESTORE_SCANS_PER_TIMEOUT = 40

TASK_ROUTES = {queue.task: {"queue": queue.value} for queue in Queue}


def celery_config(settings: Settings) -> dict[str, object]:
    return {
        "broker_url": settings.redis_url,
        "broker_transport_options": {
            # Every key Celery writes (queues, unacked, bindings, pidbox, events) carries readq's prefix.
            "global_keyprefix": settings.redis_prefix,
            "visibility_timeout": settings.visibility_timeout,
            # kombu looks for unacknowledged messages past the timeout every 10 s x this throttle (100 s by
            # default): with a short timeout, it looks every 10 s, so a dead worker's messages return promptly.
            "unacked_restore_throttle": max(1, min(10, settings.visibility_timeout // RESTORE_SCANS_PER_TIMEOUT)),
            # kombu's Redis pool holds 10 connections by default; every thread of a threads-pool worker acks,
            # publishes and retries through it, and "Too many connections" there leaves messages unacked.
            "max_connections": 2 * settings.redis_pool_size,
            # readq sends no message with a priority: a worker waits on each queue's one list instead of four.
            "priority_steps": [0],
        },
        "broker_pool_limit": settings.redis_pool_size,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "task_routes": TASK_ROUTES,
        "task_default_queue": Queue.FETCH.value,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "event_serializer": "json",
        "task_ignore_result": True,
        "result_backend": None,
        # At least once: a task is acknowledged after it ran, and given back if its worker dies mid-task.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_send_task_events": settings.task_events,
        "task_send_sent_event": settings.task_events,
    }


def create_app(settings: Settings | None = None) -> Celery:
    use_for_redis_urls()
    celery_app = Celery("readq", include=["tasks.fetch", "tasks.index"])
    celery_app.conf.update(celery_config(settings or get_settings()))
    return celery_app


app = create_app()
