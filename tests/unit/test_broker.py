"""readq's kombu Redis transport against real Redis: a delivered message is recorded as unacknowledged and its ack
removes the record, both without transactions; an index entry left without its message (a client that died
mid-pipeline) is dropped by kombu's restore and queues nothing; one redis-py client serves a channel's calls."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from kombu import Connection

from config.broker import use_for_redis_urls
from tests.conftest import TEST_REDIS_URL
from tests.unit.conftest import RedisNamespace


@pytest.fixture
def connection(redis_ns: RedisNamespace) -> Iterator[Connection]:
    use_for_redis_urls()
    with Connection(TEST_REDIS_URL, transport_options={"global_keyprefix": redis_ns.prefix,
                                                       "visibility_timeout": 1}) as conn:
        yield conn


def test_a_delivered_message_is_recorded_until_its_ack(connection: Connection, redis_ns: RedisNamespace) -> None:
    queue = connection.SimpleQueue("work")
    queue.put({"url": "http://news.example/a"})
    message = queue.get(timeout=5)
    unacked, index = f"{redis_ns.prefix}unacked", f"{redis_ns.prefix}unacked_index"

    tag = message.delivery_tag
    assert redis_ns.client.hexists(unacked, tag) and redis_ns.client.zscore(index, tag) is not None
    qos = connection.default_channel.qos
    with qos.pipe_or_acquire() as pipe:
        assert pipe.transaction is False

    message.ack()
    assert not redis_ns.client.hexists(unacked, tag) and redis_ns.client.zscore(index, tag) is None
    assert message.payload == {"url": "http://news.example/a"}
    queue.close()


def test_an_index_entry_without_its_message_is_dropped_by_the_restore(connection: Connection,
                                                                      redis_ns: RedisNamespace) -> None:
    queue = connection.SimpleQueue("work")
    index = f"{redis_ns.prefix}unacked_index"
    redis_ns.client.zadd(index, {"lost-tag": time.time() - 60})  # its HSET never arrived

    connection.default_channel.qos.restore_visible(interval=1)

    assert redis_ns.client.zscore(index, "lost-tag") is None
    assert redis_ns.client.llen(f"{redis_ns.prefix}work") == 0
    queue.put({"url": "http://news.example/b"})
    assert queue.get(timeout=5).payload == {"url": "http://news.example/b"}  # the queue works on
    queue.close()


def test_one_client_serves_a_channel(connection: Connection) -> None:
    channel = connection.default_channel
    with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
        assert first is second and first.connection_pool is channel.pool
