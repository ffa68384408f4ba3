"""Fixtures of the unit tests beside the session's (tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from tests.conftest import TEST_REDIS_URL


@dataclass(frozen=True)
class RedisNamespace:
    client: redis.Redis
    prefix: str  # every key a test writes starts with it


@pytest.fixture
def redis_ns(namespace: str) -> Iterator[RedisNamespace]:
    """The test database of the real Redis, under a key prefix of this test's own; its keys deleted afterwards."""
    client = redis.Redis.from_url(TEST_REDIS_URL)
    prefix = f"{namespace}-{uuid.uuid4().hex[:8]}:"
    try:
        yield RedisNamespace(client, prefix)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
