"""kombu's Redis transport, with one repair for the way Celery closes a connection it lost.

When Redis goes away under a running worker, Celery 5.7 first ``collect()``s the consumer's connection, which
detaches kombu's transport from it, and then ``close()``s it. Closing the channel then tries to hand its
unacknowledged messages back to the queue through the detached transport and dies with ``AttributeError``
(celery/kombu#582), an "unrecoverable error" that stops the worker. Those messages are safe where they are: the
unacked hash lives in Redis, and kombu restores it after the visibility timeout. So a detached channel skips that
restore instead of crashing, and the worker reconnects as Celery intends.
"""

from __future__ import annotations

from kombu.transport import TRANSPORT_ALIASES, redis


class Channel(redis.Channel):
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
