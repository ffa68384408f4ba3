"""``readq doctor``: is every part of readq there and wired right? Each check says what is wrong and the fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import redis
from elasticsearch import ApiError, TransportError

from config.celery import Queue
from readq._client import Client
from workers.masking import mask_secrets

REDIS_MAJOR = 7

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    name: str
    level: str
    detail: str
    fix: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def run_checks(client: Client) -> list[Check]:
    checks = _redis_checks(client)
    if checks[0].level == FAIL:
        return checks
    checks += _elasticsearch_checks(client)
    checks += _worker_checks(client)
    return checks


def _redis_checks(client: Client) -> list[Check]:
    url = mask_secrets(client.settings.redis_url)
    try:
        info = client.runtime.redis.info()
    except redis.RedisError as exc:
        return [Check("redis", FAIL, mask_secrets(f"{url}: {exc}"), "start Redis or point READQ_REDIS_URL at it")]
    version = str(info.get("redis_version", "0"))
    recent = int(version.split(".")[0]) >= REDIS_MAJOR
    checks = [Check("redis", OK if recent else FAIL, f"Redis {version} at {url}",
                    None if recent else f"readq needs Redis {REDIS_MAJOR}+ (its workers take messages with BLMPOP)")]
    policy = str(info.get("maxmemory_policy", ""))
    if policy != "noeviction":
        checks.append(Check("redis eviction", WARN, f"maxmemory-policy is {policy}: queued tasks can be evicted",
                            "set `maxmemory-policy noeviction` in redis.conf"))
    if not int(info.get("aof_enabled", 0)):
        checks.append(Check("redis persistence", WARN, "append-only file is off: a restart loses the queues",
                            "set `appendonly yes` in redis.conf (docker-compose.yml does)"))
    return checks


def _elasticsearch_checks(client: Client) -> list[Check]:
    settings, es = client.settings, client.runtime.es
    url = mask_secrets(settings.es_url)
    try:
        version = str(es.info()["version"]["number"])
    except (ApiError, TransportError) as exc:
        return [Check("elasticsearch", FAIL, mask_secrets(f"{url}: {exc}"),
                      "start Elasticsearch or point READQ_ES_URL (and credentials) at it")]
    checks = [Check("elasticsearch", OK if version.split(".")[0] == "8" else FAIL,
                    f"Elasticsearch {version} at {url}",
                    None if version.startswith("8.") else "readq needs Elasticsearch 8")]
    for alias in (settings.pages_alias, settings.status_alias):
        template = es.options(ignore_status=404).indices.get_index_template(name=alias)
        if not template.get("index_templates"):
            checks.append(Check(f"template {alias}", FAIL, "index template missing", "run `readq setup`"))
            continue
        aliases = es.options(ignore_status=404).indices.get_alias(name=alias)
        found = aliases.body.items() if aliases.meta.status == 200 else []
        writers = [index for index, body in found if body.get("aliases", {}).get(alias, {}).get("is_write_index")]
        if len(writers) == 1:
            checks.append(Check(f"alias {alias}", OK, f"writes go to {writers[0]}"))
        else:
            checks.append(Check(f"alias {alias}", FAIL, f"{len(writers)} write indices behind the alias",
                                "run `readq setup`; if an index named like the alias exists, reindex it away"))
    return checks


def _worker_checks(client: Client) -> list[Check]:
    consumers: dict[str, list[str]] = {queue.value: [] for queue in Queue}
    for worker, queues in client.workers(timeout=1.5).items():
        for queue in queues:
            consumers.setdefault(queue, []).append(worker)
    depths = client.queue_depths()
    return [
        Check(f"workers {queue}", OK, f"{len(names)} consuming: {', '.join(names)}") if names else
        Check(f"workers {queue}", FAIL, f"no worker consumes the {queue} queue ({depths.get(queue, 0)} waiting)",
              "start one: `readq worker`")
        for queue, names in consumers.items()
    ]
