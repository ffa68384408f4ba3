"""The claim check: fetched bodies wait in Redis, compressed and under a TTL, until the extract stage takes them."""

from __future__ import annotations

import zlib

import redis

from config.settings import Settings
from workers.errors import PageExpired


class PageStore:
    def __init__(self, *, client: redis.Redis, prefix: str, ttl: int) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl = ttl

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis) -> PageStore:
        return cls(client=client, prefix=settings.redis_prefix, ttl=settings.page_ttl)

    def key_for(self, page_id: str) -> str:
        return f"{self.prefix}page:{page_id}"

    def put(self, page_id: str, body: bytes) -> str:
        key = self.key_for(page_id)
        self.client.set(key, zlib.compress(body, 1), ex=self.ttl)
        return key

    def get(self, key: str) -> bytes:
        stored = self.client.get(key)
        if not isinstance(stored, bytes):
            raise PageExpired(f"the fetched body at {key} is gone (expired after {self.ttl} s or already used)")
        return zlib.decompress(stored)

    def delete(self, key: str) -> None:
        self.client.delete(key)
