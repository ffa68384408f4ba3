# mypy: disable-error-code="no-untyped-call"
"""kombu's Redis transport, with one repair for the way Celery closes a connection it lost, and savings of round trips.

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

Round trips, the largest part of Redis's CPU per message (measured: ~37 us of server time per round trip against
1-4 us per command): the consumer takes up to as many messages as its prefetch window has room for in one
``BLMPOP`` (Redis 7) instead of one ``BRPOP`` each, and records them all as unacknowledged in one pipeline before
delivering the first, as kombu records one before delivering it; acks from the worker's threads within
``ACK_FLUSH_SECONDS`` of each other go out as one ``HDEL`` and one ``ZREM`` (see :class:`GroupedAcks`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from queue import Empty
from typing import Any

from kombu.transport import TRANSPORT_ALIASES, redis, virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads

from workers.groupcommit import GroupCommit, Unit

MESSAGES_AT_ONCE = 100  # at most this many messages per pop, within the prefetch window
ACK_FLUSH_SECONDS = 0.05
ACKS_AT_ONCE = 500

logger = logging.getLogger(__name__)


class GroupedAcks(GroupCommit[str]):
    """Acks sent as one ``HDEL`` and one ``ZREM`` for all that came within ``ACK_FLUSH_SECONDS``.

    Celery runs every ack on the worker's event loop, one after another, so an ack does not wait for Redis: a
    worker that dies before the flush leaves its messages unacknowledged, and they come back as they would had it
    died just before acking (at least once; readq's writes are idempotent)."""

    def __init__(self, qos: QoS) -> None:
        self.qos = qos
        super().__init__(max_items=ACKS_AT_ONCE, flush_interval=ACK_FLUSH_SECONDS, name="readq-acks")

    def ack(self, delivery_tag: str) -> None:
        self._enqueue(delivery_tag)

    def _send(self, units: list[Unit[str]]) -> None:
        try:
            self.qos.remove_from_indices([unit.item for unit in units])
        except Exception as exc:  # the flusher thread must survive anything
            logger.warning("%d acks not sent (%s): kombu gives their messages back after the visibility timeout",
                           len(units), exc)
        for unit in units:
            unit.future.set_result(None)


class QoS(redis.QoS):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recorded: set[str] = set()
        self._acks: GroupedAcks | None = None
        self._acks_lock = threading.Lock()

    def record(self, payloads: Sequence[dict[str, Any]]) -> None:
        """Record messages about to be delivered as unacknowledged, in one round trip (kombu's format)."""
        now = time.time()
        with self.pipe_or_acquire() as pipe:
            for payload in payloads:
                properties = payload["properties"]
                tag, info = properties["delivery_tag"], properties["delivery_info"]
                pipe.zadd(self.unacked_index_key, {tag: now})
                pipe.hset(self.unacked_key, tag, dumps([payload, info["exchange"], info["routing_key"]]))
            pipe.execute()
        self._recorded.update(payload["properties"]["delivery_tag"] for payload in payloads)

    def forget_recorded(self, payloads: Sequence[dict[str, Any]]) -> None:
        self._recorded.difference_update(payload["properties"]["delivery_tag"] for payload in payloads)

    def append(self, message: Any, delivery_tag: str) -> None:
        if delivery_tag in self._recorded:
            self._recorded.discard(delivery_tag)
            virtual.QoS.append(self, message, delivery_tag)
        else:
            super().append(message, delivery_tag)

    def ack(self, delivery_tag: str) -> None:
        with self._acks_lock:
            if self._acks is None:
                self._acks = GroupedAcks(self)
        self._acks.ack(delivery_tag)
        virtual.QoS.ack(self, delivery_tag)

    def remove_from_indices(self, delivery_tags: Sequence[str]) -> None:
        with self.pipe_or_acquire() as pipe:
            pipe.hdel(self.unacked_key, *delivery_tags).zrem(self.unacked_index_key, *delivery_tags).execute()

    def close(self) -> None:
        if self._acks is not None:
            self._acks.close()

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._no_ack_queues: set[str] = set()
        super().__init__(*args, **kwargs)

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        shared = self._shared_client
        if shared is None or shared.connection_pool is not self.pool:  # a new pool after a fork or a reconnect
            shared = self._shared_client = self._create_client()
        yield shared

    def close(self) -> None:
        if not self.closed and self._qos is not None:
            self._qos.close()
            if self.connection.client is None:
                self._qos.restore_at_shutdown = False
        super().close()

    def basic_consume(self, queue: str, no_ack: bool, *args: Any, **kwargs: Any) -> Any:
        # A consumer without acks (Celery's control replies) gets no unacknowledged record, as in kombu.
        if no_ack:
            self._no_ack_queues.add(queue)
        else:
            self._no_ack_queues.discard(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def _brpop_start(self, timeout: float | None = None) -> None:
        queues = self._queue_cycle.consume(len(self.active_queues))
        if not queues:
            return
        keys = [f"{self.global_keyprefix}{self._q_for_pri(queue, priority)}"
                for priority in self.priority_steps for queue in queues]
        count = min(self.qos.can_consume_max_estimate() or 1, MESSAGES_AT_ONCE)
        self._in_poll = self.client.connection
        self._brpop_sent_at = time.monotonic()  # type: ignore[assignment]
        self.client.connection.send_command("BLMPOP", self.brpop_timeout if timeout is None else timeout,
                                            len(keys), *keys, "RIGHT", "COUNT", max(count, 1))

    def _brpop_read(self, **options: Any) -> bool:
        try:
            try:
                reply = self.client.parse_response(self.client.connection, "BLMPOP", **options)
            except self.connection_errors:
                self.client.connection.disconnect()  # the next round reconnects
                raise
            if not reply:
                raise Empty()
            key, items = reply
            queue = bytes_to_str(key)[len(self.global_keyprefix):].rsplit(self.sep, 1)[0]
            self._queue_cycle.rotate(queue)
            payloads = [loads(bytes_to_str(item)) for item in items]
            if queue not in self._no_ack_queues:
                self.qos.record(payloads)
            try:
                for payload in payloads:
                    self.connection._deliver(payload, queue)
            finally:
                self.qos.forget_recorded(payloads)  # those a raising delivery left behind: in Redis, for the restore
            return True
        finally:
            self._in_poll = None  # type: ignore[assignment]
            self._flush_brpop_reauth()


class Transport(redis.Transport):
    Channel = Channel


def use_for_redis_urls() -> None:
    """``redis://`` and ``rediss://`` broker URLs get this transport; URLs, logs and Flower still say redis."""
    for scheme in ("redis", "rediss"):
        TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
