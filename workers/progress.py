"""Batch progress in Redis: each URL's current state per batch, and counters that follow it exactly.

A Lua script moves one URL from its old state to its new one and adjusts both counters atomically, so a
redelivered task (at-least-once) never counts a URL twice, and reading progress is one HGETALL.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import redis

from config.settings import Settings


class State(StrEnum):
    QUEUED = "queued"
    FETCHED = "fetched"
    INDEXED = "indexed"
    UNCHANGED = "unchanged"  # re-fetched, and the page is as it was: the indexed document stands
    SKIPPED = "skipped"
    FAILED = "failed"


FINAL_STATES = frozenset({State.INDEXED, State.UNCHANGED, State.SKIPPED, State.FAILED})

_MOVE = """
local moved = {}
local deltas = {}
local changed = false
for i = 5, #ARGV do
  local old = redis.call('HGET', KEYS[2], ARGV[i])
  if old == ARGV[1] then
    moved[#moved + 1] = '0'
  else
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[1])
    if old then deltas[old] = (deltas[old] or 0) - 1 end
    deltas[ARGV[1]] = (deltas[ARGV[1]] or 0) + 1
    moved[#moved + 1] = '1'
    changed = true
  end
end
for state, delta in pairs(deltas) do
  if delta ~= 0 then redis.call('HINCRBY', KEYS[1], state, delta) end
end
if changed then
  redis.call('HSET', KEYS[1], 'updated', ARGV[3])
  redis.call('HSETNX', KEYS[1], 'created', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[2]))
end
return table.concat(moved)
"""


@dataclass(frozen=True)
class BatchProgress:
    batch: str
    queued: int
    fetched: int
    indexed: int
    unchanged: int
    skipped: int
    failed: int
    created: float | None
    updated: float | None

    @property
    def total(self) -> int:
        return self.queued + self.fetched + self.done

    @property
    def done(self) -> int:
        return self.indexed + self.unchanged + self.skipped + self.failed

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.done == self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch, "total": self.total, "done": self.done, "finished": self.finished,
            "queued": self.queued, "fetched": self.fetched, "indexed": self.indexed, "unchanged": self.unchanged,
            "skipped": self.skipped, "failed": self.failed, "created": self.created, "updated": self.updated,
        }


class ProgressTracker:
    def __init__(self, *, client: redis.Redis, prefix: str, ttl: int, failures_kept: int = 100) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl = ttl
        self.failures_kept = failures_kept
        self._move = client.register_script(_MOVE)

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis) -> ProgressTracker:
        return cls(client=client, prefix=settings.redis_prefix, ttl=settings.batch_ttl)

    def _keys(self, batch: str) -> list[str]:
        return [f"{self.prefix}batch:{batch}", f"{self.prefix}batch:{batch}:urls", f"{self.prefix}batches"]

    def move(self, batch: str, url_id: str, state: State) -> bool:
        """Record ``state`` for a URL; says whether it changed state."""
        return self.move_many(batch, [url_id], state)[0]

    def move_many(self, batch: str, url_ids: list[str], state: State) -> list[bool]:
        """Move many URLs in one script call; says for each whether it changed state."""
        if not url_ids:
            return []
        args = [state.value, self.ttl, time.time(), batch, *url_ids]
        return flags(self._move(keys=self._keys(batch), args=args))

    def record_failure(self, record: dict[str, Any]) -> None:
        key = f"{self.prefix}failures"
        with self.client.pipeline(transaction=False) as pipe:
            pipe.lpush(key, json.dumps(record))
            pipe.ltrim(key, 0, self.failures_kept - 1)
            pipe.execute()

    def recent_failures(self, limit: int = 10) -> list[dict[str, Any]]:
        return [json.loads(item) for item in self.client.lrange(f"{self.prefix}failures", 0, limit - 1)]

    def progress(self, batch: str) -> BatchProgress | None:
        raw = self.client.hgetall(self._keys(batch)[0])
        if not raw:
            return None
        fields = {_text(k): _text(v) for k, v in raw.items()}
        counts = {state.value: int(fields.get(state.value, 0)) for state in State}
        return BatchProgress(
            batch=batch, **counts,
            created=float(fields["created"]) if "created" in fields else None,
            updated=float(fields["updated"]) if "updated" in fields else None,
        )

    def unfinished_urls(self, batch: str) -> list[str]:
        """Ids of the batch's URLs that are not in a final state yet."""
        final = {state.value for state in FINAL_STATES}
        return [_text(url_id) for url_id, state in self.client.hscan_iter(self._keys(batch)[1])
                if _text(state) not in final]

    def recent_batches(self, limit: int = 10) -> list[str]:
        return [_text(b) for b in self.client.zrevrange(f"{self.prefix}batches", 0, limit - 1)]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def flags(reply: bytes | str) -> list[bool]:
    """A script's answer for many items: one ``0``/``1`` character each (a string parses faster than a list)."""
    text = reply.decode() if isinstance(reply, bytes) else reply
    return [flag == "1" for flag in text]
