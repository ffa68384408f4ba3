"""``readq dev``: readq on one machine without Docker, in the foreground, stopped as a whole by Ctrl-C.

Uses Redis and Elasticsearch where the settings point if they answer; otherwise starts a local ``redis-server``
and the ``noida-db`` Elasticsearch stand-in with their data under ``.readq/``. Then installs the index
templates and starts a worker and Flower.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import redis
from elasticsearch import ApiError, TransportError

from config.settings import Settings
from readq._client import Client
from readq._launcher import Supervisor, flower_command, flower_env, worker_command, worker_env
from readq._services import NoidaElasticsearch, RedisServer, noida_binary, redis_server_binary, wait_for
from workers.errors import ServiceUnavailable
from workers.masking import mask_secrets

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
START_TIMEOUT = 60.0  # s for a started service to answer
# A page server on this machine is the developer's own: `readq dev` fetches from it this fast, not once a second.
LOOPBACK_HOST_PATTERNS = ("127.0.0.1", "localhost", "[[]::1]")  # fnmatch patterns: "[[]" is a literal "["
LOOPBACK_REQUESTS_PER_SECOND = 100.0


def dev_rate_limits(settings: Settings) -> dict[str, float]:
    """READQ_HOST_RATE_LIMITS for `readq dev`'s workers: loopback hosts lifted, the configured patterns kept (and
    first, so that one naming a loopback host still wins)."""
    return {**settings.host_rate_limits,
            **{pattern: LOOPBACK_REQUESTS_PER_SECOND for pattern in LOOPBACK_HOST_PATTERNS
               if pattern not in settings.host_rate_limits}}


def run_dev(settings: Settings, *, state_dir: Path, say: Callable[[str], None]) -> int:
    state_dir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor()
    client = Client(settings)
    try:
        _ensure_redis(client, supervisor, state_dir, say)
        _ensure_elasticsearch(client, supervisor, state_dir, say)
        created = client.install_templates()
        say(f"index templates installed (new indices: {', '.join(created) or 'none'})")
        base_env = {**os.environ, "READQ_HOST_RATE_LIMITS": json.dumps(dev_rate_limits(settings))}
        supervisor.start("worker", worker_command(settings), env=worker_env(settings, base_env))
        supervisor.start("flower", flower_command(settings), env=flower_env(settings, os.environ))
        say(f"worker started; Flower at http://127.0.0.1:{settings.flower_port}")
        say("pages on this machine (127.0.0.1, localhost, [::1]) are fetched at up to "
            f"{LOOPBACK_REQUESTS_PER_SECOND:g} requests/s per host, other hosts at READQ_HOST_REQUESTS_PER_SECOND")
        say("queue with `readq enqueue URL --wait`, search with `readq search WORDS`; Ctrl-C stops everything")
        return supervisor.run()
    except (ServiceUnavailable, KeyboardInterrupt):
        supervisor.stop()
        raise
    finally:
        client.close()


def _ensure_redis(client: Client, supervisor: Supervisor, state_dir: Path, say: Callable[[str], None]) -> None:
    url = mask_secrets(client.settings.redis_url)
    if _answers(client.runtime.redis.ping):
        say(f"Redis: using {url}")
        return
    parts = urlsplit(url)
    if parts.hostname not in LOCAL_HOSTS or redis_server_binary() is None:
        why = "it is not local" if parts.hostname not in LOCAL_HOSTS else "redis-server is not installed"
        raise ServiceUnavailable("Redis", url, f"no answer, and readq cannot start one ({why}); "
                                 "start Redis or set READQ_REDIS_URL")
    data = state_dir / "redis"
    data.mkdir(exist_ok=True)
    log = (state_dir / "redis.log").open("ab")
    server = RedisServer(data, parts.port or 6379)
    supervisor.start(server.name, server.command(), tier=0, output=log)
    _wait_until(client.runtime.redis.ping, "Redis", url)
    say(f"Redis: started redis-server at {url} (data in {data})")


def _ensure_elasticsearch(client: Client, supervisor: Supervisor, state_dir: Path,
                          say: Callable[[str], None]) -> None:
    url = mask_secrets(client.settings.es_url)
    if _answers(client.runtime.es.info):
        say(f"Elasticsearch: using {url}")
        return
    parts = urlsplit(url)
    if parts.hostname not in LOCAL_HOSTS or noida_binary() is None:
        why = "it is not local" if parts.hostname not in LOCAL_HOSTS else "noida-db is not installed"
        raise ServiceUnavailable("Elasticsearch", url, f"no answer, and readq cannot start one ({why}); "
                                 "start Elasticsearch or set READQ_ES_URL")
    data = state_dir / "elasticsearch"
    log = (state_dir / "elasticsearch.log").open("ab")
    server = NoidaElasticsearch(data, parts.port or 9200)
    supervisor.start(server.name, server.command(), tier=0, output=log)
    _wait_until(client.runtime.es.info, "Elasticsearch", url)
    say(f"Elasticsearch: started the noida-db stand-in at {url} (data in {data})")


def _answers(probe: Callable[[], object]) -> bool:
    try:
        probe()
    except (redis.RedisError, TransportError, ApiError):
        return False
    return True


def _wait_until(probe: Callable[[], object], service: str, url: str) -> None:
    try:
        wait_for(lambda: _answers(probe), service, START_TIMEOUT, interval=0.3)
    except TimeoutError:
        raise ServiceUnavailable(service, url, f"started, but no answer within {START_TIMEOUT:g} s") from None
