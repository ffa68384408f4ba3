"""`readq dev`'s services: where nothing answers on the configured local ports, it starts redis-server and
noida-db there under its supervisor; the same servers the tests and benchmarks start on ports of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from config.settings import Settings
from readq._client import Client
from readq._dev import _ensure_elasticsearch, _ensure_redis
from readq._launcher import Supervisor
from readq._services import RedisServer, free_port
from workers.errors import ServiceUnavailable


def test_readq_dev_starts_redis_and_noida_where_the_settings_point(tmp_path: Path) -> None:
    redis_port, es_port = free_port(), free_port()
    settings = Settings(redis_url=f"redis://127.0.0.1:{redis_port}/0", es_url=f"http://127.0.0.1:{es_port}")
    said: list[str] = []
    supervisor = Supervisor(stop_grace=10)
    try:
        with Client(settings) as client:
            _ensure_redis(client, supervisor, tmp_path, said.append)
            _ensure_elasticsearch(client, supervisor, tmp_path, said.append)

            assert client.runtime.redis.ping()
            assert client.runtime.es.info()["version"]["number"]
            assert [name for name, _, _ in supervisor.processes] == ["redis-server", "noida-db"]
            assert said[0].startswith(f"Redis: started redis-server at redis://127.0.0.1:{redis_port}")
            assert said[1].startswith(f"Elasticsearch: started the noida-db stand-in at http://127.0.0.1:{es_port}")
            assert (tmp_path / "redis" / "appendonlydir").is_dir()  # append-only persistence, as before
    finally:
        supervisor.stop()
    assert all(process.poll() is not None for _, process, _ in supervisor.processes)


def test_readq_dev_uses_a_redis_that_answers_and_refuses_to_start_a_remote_one(tmp_path: Path) -> None:
    server = RedisServer(tmp_path).start()
    said: list[str] = []
    supervisor = Supervisor()
    try:
        with Client(Settings(redis_url=server.url)) as client:
            _ensure_redis(client, supervisor, tmp_path, said.append)
        assert said == [f"Redis: using {server.url}"]
        assert supervisor.processes == []
    finally:
        server.stop()
    with Client(Settings(redis_url="redis://redis.invalid:6379/0")) as client, \
            pytest.raises(ServiceUnavailable, match="it is not local"):
        _ensure_redis(client, supervisor, tmp_path / "dev", said.append)


def test_a_restarted_redis_server_keeps_what_it_acknowledged(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, appendfsync="always").start()
    try:
        redis.Redis.from_url(server.url).set("kept", "yes")
        server.stop()
        server.start()
        assert redis.Redis.from_url(server.url).get("kept") == b"yes"
    finally:
        server.stop()
    assert server.process is not None and server.process.poll() is not None
