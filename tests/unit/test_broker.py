"""readq's kombu Redis transport against real Redis: a delivered message is recorded as unacknowledged and its ack
removes the record, both without transactions; an index entry left without its message (a client that died
mid-pipeline) is dropped by kombu's restore and queues nothing; one redis-py client serves a channel's calls."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Connection, Consumer, Queue

from config.broker import QoS, use_for_redis_urls
from readq._services import wait_for
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
    wait_for(lambda: not redis_ns.client.hexists(unacked, tag), "the ack to reach Redis", timeout=10)
    assert redis_ns.client.zscore(index, tag) is None
    assert message.payload == {"url": "http://news.example/a"}
    queue.close()


def test_one_pop_takes_what_the_prefetch_window_holds_and_records_it_first(connection: Connection,
                                                                           redis_ns: RedisNamespace) -> None:
    channel = connection.channel()
    producer = connection.Producer(channel)
    for i in range(5):
        producer.publish({"i": i}, routing_key="work", declare=[Queue("work")])
    unacked = f"{redis_ns.prefix}unacked"
    recorded_at_delivery: list[int] = []
    delivered: list[Any] = []

    def on_message(body: Any, message: Any) -> None:
        recorded_at_delivery.append(redis_ns.client.hlen(unacked))
        delivered.append(message)

    with Consumer(channel, [Queue("work")], callbacks=[on_message]) as consumer:
        consumer.qos(prefetch_count=3)
        connection.drain_events(timeout=5)
        assert [m.payload["i"] for m in delivered] == [0, 1, 2]  # one pop, in the order queued
        assert recorded_at_delivery == [3, 3, 3]  # all three recorded before the first was delivered
        assert redis_ns.client.llen(f"{redis_ns.prefix}work") == 2
        for message in delivered:
            message.ack()
        wait_for(lambda: redis_ns.client.hlen(unacked) == 0, "the acks to reach Redis", timeout=10)
        connection.drain_events(timeout=5)
        assert [m.payload["i"] for m in delivered[3:]] == [3, 4]
        for message in delivered[3:]:
            message.ack()
    channel.close()  # sends the acks still pending
    assert redis_ns.client.hlen(unacked) == 0 and redis_ns.client.zcard(f"{redis_ns.prefix}unacked_index") == 0


def test_a_delivery_that_raises_leaves_the_rest_recorded_for_the_restore(connection: Connection,
                                                                         redis_ns: RedisNamespace) -> None:
    channel = connection.channel()
    producer = connection.Producer(channel)
    for i in range(3):
        producer.publish({"i": i}, routing_key="work", declare=[Queue("work")])

    def on_message(body: Any, message: Any) -> None:
        raise RuntimeError("the consumer broke")

    with Consumer(channel, [Queue("work")], callbacks=[on_message]) as consumer:
        consumer.qos(prefetch_count=3)
        with pytest.raises(RuntimeError, match="consumer broke"):
            connection.drain_events(timeout=5)
    assert redis_ns.client.hlen(f"{redis_ns.prefix}unacked") == 3  # kombu's restore gives all three back
    assert not channel.qos._recorded  # no tag kept in the process
    channel.close()


def test_a_consumer_without_acks_leaves_no_record(connection: Connection, redis_ns: RedisNamespace) -> None:
    channel = connection.channel()
    connection.Producer(channel).publish({"reply": 1}, routing_key="replies", declare=[Queue("replies")])
    received: list[Any] = []
    with Consumer(channel, [Queue("replies")], callbacks=[lambda body, _: received.append(body)], no_ack=True):
        connection.drain_events(timeout=5)
    assert received == [{"reply": 1}]
    assert redis_ns.client.hlen(f"{redis_ns.prefix}unacked") == 0  # as Celery's control replies: nothing to restore
    channel.close()


def test_acks_from_many_threads_go_out_together(connection: Connection, redis_ns: RedisNamespace,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    queue = connection.SimpleQueue("work")
    for i in range(20):
        queue.put({"i": i})
    messages = [queue.get(timeout=5) for _ in range(20)]
    groups: list[int] = []
    send = QoS.remove_from_indices
    monkeypatch.setattr(QoS, "remove_from_indices", lambda qos, tags: (groups.append(len(tags)), send(qos, tags)))
    start = threading.Barrier(20)

    def ack(message: Any) -> None:
        start.wait()
        message.ack()

    threads = [threading.Thread(target=ack, args=(message,)) for message in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for(lambda: sum(groups) == 20, "every ack to be sent", timeout=10)
    assert len(groups) < 5
    assert redis_ns.client.hlen(f"{redis_ns.prefix}unacked") == 0
    queue.close()


def test_a_failed_ack_leaves_the_message_to_the_restore(connection: Connection, redis_ns: RedisNamespace,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    queue = connection.SimpleQueue("work")
    queue.put({"url": "http://news.example/c"})
    message = queue.get(timeout=5)
    tried: list[str] = []

    def broken(qos: QoS, tags: list[str]) -> None:
        tried.extend(tags)
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(QoS, "remove_from_indices", broken)
    with caplog.at_level(logging.WARNING, logger="config.broker"):
        message.ack()
        wait_for(lambda: tried, "the ack to be tried", timeout=10)
        wait_for(lambda: "1 acks not sent (Redis went away)" in caplog.text, "the warning", timeout=10)
    assert redis_ns.client.hexists(f"{redis_ns.prefix}unacked", message.delivery_tag)  # restored later
    monkeypatch.undo()
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
