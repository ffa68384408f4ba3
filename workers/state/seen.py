"""The seen-set: which URLs were queued recently, so that a URL is not fetched twice without reason.

Memory stays small for tens of millions of URLs: each URL is 6 bytes of its id (a field) and the minute it was
queued (a small integer) in one of 2^20 hashes picked by 20 other bits of its id; each hash stays small enough
for Redis's compact listpack encoding. URLs are claimed by the producer's admission script
(:mod:`workers.state.admission`); a failed URL is forgotten, so it may be queued again.
"""

from __future__ import annotations

import redis

from config.settings import Settings

SHARD_HEX = 5  # 20 bits: 2^20 hashes
FIELD_HEX = 12  # 48 bits per URL within its hash


class SeenSet:
    def __init__(self, *, client: redis.Redis, prefix: str, refetch_after: int) -> None:
        self.client = client
        self.prefix = prefix
        self.refetch_after_minutes = max(0, refetch_after // 60)

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis) -> SeenSet:
        return cls(client=client, prefix=settings.redis_prefix, refetch_after=settings.refetch_after)

    def slot(self, url_id: str) -> tuple[str, bytes]:
        """The hash and field that hold ``url_id``'s entry."""
        return f"{self.prefix}seen:{url_id[:SHARD_HEX]}", bytes.fromhex(url_id[SHARD_HEX:SHARD_HEX + FIELD_HEX])

    def queued_at(self, url_id: str) -> float | None:
        """When the URL was last queued (epoch s, to the minute), or None if it is not in the set."""
        minute = self.client.hget(*self.slot(url_id))
        return int(minute) * 60.0 if minute is not None else None

    def forget(self, url_id: str) -> None:
        self.client.hdel(*self.slot(url_id))
