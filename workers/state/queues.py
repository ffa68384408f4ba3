"""How much work the broker holds: messages waiting on each stage's queue, and those delivered but unacknowledged."""

from __future__ import annotations

import redis

from config.celery import Queue


def queue_depths(client: redis.Redis, prefix: str) -> dict[str, int]:
    """Messages waiting per stage, and ``in_flight``: delivered to a worker and not acknowledged yet (kombu's
    ``unacked`` hash, which also holds every task waiting out a countdown in a worker)."""
    with client.pipeline(transaction=False) as pipe:
        for queue in Queue:
            pipe.llen(f"{prefix}{queue.value}")
        pipe.hlen(f"{prefix}unacked")
        *depths, in_flight = pipe.execute()
    return {**{queue.value: int(depth) for queue, depth in zip(Queue, depths, strict=True)}, "in_flight": in_flight}
