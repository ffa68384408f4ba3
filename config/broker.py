"""kombu's Redis transport, with one repair for the way Celery closes a connection it lost, and two savings.

When Redis goes away under a running worker, Celery 5.7 first ``collect()``s the consumer's connection, which
detaches kombu's transport from it, and then ``close()``s it. Closing the channel then tries to hand its
unacknowledged messages back to the queue through the detached transport and dies with ``AttributeError``
(celery/kombu#582), an "unrecoverable error" that stops the worker. Those messages are safe where they are: the
unacked hash lives in Redis, and kombu restores it after the visibility timeout. So a detached channel skips that
restore instead of crashing, and the worker reconnects as Celery intends.

The savings: a message's unacknowledged record (``ZADD`` to the index, ``HSET`` of the message) and its ack
(``HDEL``, ``ZREM``) go out as plain pipelines, not ``MULTI``/``EXEC`` transactions: four commands a message instead
of eight. Redis runs a pipeline's commands in order and a command whose bytes did not all arrive not at all, so a
client dying mid-pipeline can leave only an index entry without its message, which kombu's restore drops; the ack
deletes the message first for that reason.

kombu also builds a new redis-py client object for every command it sends outside the event loop (each
message's unacknowledged record and its ack among them), and redis-py 8's client constructor copies a table of
~200 response callbacks each time: measured, it was the largest single cost of a worker's main thread. A client
holds no connection of its own (its pool does), so one per channel and pool serves every call the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import TRANSPORT_ALIASES, redis


class QoS(redis.QoS):
    @contextmanager
    def pipe_or_acquire(self, pipe: Any = None, client: Any = None) -> Iterator[Any]:
        if pipe:
            yield pipe
            return
        with self.channel.conn_or_acquire(client) as acquired:
            yield acquired.pipeline(transaction=False)

    def _remove_from_indices(self, delivery_tag: str, pipe: Any = None) -> Any:
        with self.pipe_or_acquire(pipe) as acquired:
            return acquired.hdel(self.unacked_key, delivery_tag).zrem(self.unacked_index_key, delivery_tag)


class Channel(redis.Channel):
    QoS = QoS
    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        shared = self._shared_client
        if shared is None or shared.connection_pool is not self.pool:  # a new pool after a fork or a reconnect
            shared = self._shared_client = self._create_client()  # type: ignore[no-untyped-call]
        yield shared

    def close(self) -> None:
        if not self.closed and self._qos is not None and self.connection.client is None:
            self._qos.restore_at_shutdown = False
        super().close()  # type: ignore[no-untyped-call]


class Transport(redis.Transport):
    Channel = Channel


def use_for_redis_urls() -> None:
    """``redis://`` and ``rediss://`` broker URLs get this transport; URLs, logs and Flower still say redis."""
    for scheme in ("redis", "rediss"):
        TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
