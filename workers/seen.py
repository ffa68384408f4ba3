"""The seen-set: which URLs were queued recently, so that a URL is not fetched twice without reason.

Memory stays small for tens of millions of URLs: each URL is 6 bytes of its id (a field) and the minute it was
queued (a small integer) in one of 2^20 hashes picked by 20 other bits of its id; each hash stays small enough
for Redis's compact listpack encoding. A failed URL is forgotten, so it may be queued again.
"""

from __future__ import annotations

import redis

from config.settings import Settings
from workers.progress import flags

SHARD_HEX = 5  # 20 bits: 2^20 hashes
FIELD_HEX = 12  # 48 bits per URL within its hash

_CLAIM = """
local t = redis.call('TIME')
local minute = math.floor(tonumber(t[1]) / 60)
local window, force = tonumber(ARGV[1]), ARGV[2] == '1'
local claimed = {}
for i, key in ipairs(KEYS) do
  local seen = tonumber(redis.call('HGET', key, ARGV[i + 2]) or '-1')
  if not force and seen >= 0 and minute - seen < window then
    claimed[i] = '0'
  else
    redis.call('HSET', key, ARGV[i + 2], minute)
    claimed[i] = '1'
  end
end
return table.concat(claimed)
"""


class SeenSet:
    def __init__(self, *, client: redis.Redis, prefix: str, refetch_after: int) -> None:
        self.client = client
        self.prefix = prefix
        self.refetch_after_minutes = max(0, refetch_after // 60)
        self._claim = client.register_script(_CLAIM)

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis) -> SeenSet:
        return cls(client=client, prefix=settings.redis_prefix, refetch_after=settings.refetch_after)

    def _slot(self, url_id: str) -> tuple[str, bytes]:
        return f"{self.prefix}seen:{url_id[:SHARD_HEX]}", bytes.fromhex(url_id[SHARD_HEX:SHARD_HEX + FIELD_HEX])

    def claim_many(self, url_ids: list[str], *, force: bool = False) -> list[bool]:
        """Mark URLs as queued now; says for each whether it may be queued (not seen within refetch_after).

        One script call for the lot: one round trip, and Redis runs the checks without parsing a command each."""
        if not url_ids:
            return []
        slots = [self._slot(url_id) for url_id in url_ids]
        claimed = self._claim(keys=[key for key, _ in slots],
                              args=[self.refetch_after_minutes, "1" if force else "0", *(f for _, f in slots)])
        return flags(claimed)

    def forget(self, url_id: str) -> None:
        key, field = self._slot(url_id)
        self.client.hdel(key, field)
