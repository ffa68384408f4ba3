"""``readq doctor``'s Redis checks: a Redis older than 7 fails with what to do (its workers take messages with
BLMPOP); no Redis this machine can start is older, so the server's INFO reply is the one thing stood in for."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from readq._doctor import FAIL, OK, _redis_checks


def client_of(info: dict[str, Any]) -> Any:
    redis = SimpleNamespace(info=lambda: info)
    return SimpleNamespace(settings=SimpleNamespace(redis_url="redis://:s3cret@cache.internal:6379/0"),
                           runtime=SimpleNamespace(redis=redis))


@pytest.mark.parametrize(("version", "status"), [("6.2.14", FAIL), ("7.0.15", OK), ("7.4.1", OK), ("8.0.0", OK)])
def test_redis_7_or_newer_is_required(version: str, status: str) -> None:
    checks = _redis_checks(client_of({"redis_version": version, "maxmemory_policy": "noeviction",
                                      "aof_enabled": 1}))
    redis_check = next(check for check in checks if check.name == "redis")
    assert redis_check.level == status
    assert version in redis_check.detail and "s3cret" not in redis_check.detail
    assert (redis_check.fix is not None and "Redis 7+" in redis_check.fix) == (status == FAIL)
