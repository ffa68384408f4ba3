"""Batch progress in Redis: each URL's current state per batch, and counters that follow it exactly.

A Lua script moves one URL from its old state to its new one and adjusts both counters atomically, so a
redelivered task (at-least-once) never counts a URL twice, and reading progress is one HGETALL.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

import redis

from config.settings import Settings
from workers.groupcommit import GroupCommit, Unit


class State(StrEnum):
    QUEUED = "queued"
    FETCHED = "fetched"
    INDEXED = "indexed"
    UNCHANGED = "unchanged"  # re-fetched, and the page is as it was: the indexed document stands
    SKIPPED = "skipped"
    FAILED = "failed"


FINAL_STATES = frozenset({State.INDEXED, State.UNCHANGED, State.SKIPPED, State.FAILED})
MOVES_FLUSH_SECONDS = 0.005  # long enough to gather the pages one _bulk answered at once
MOVES_AT_ONCE = 500
MOVE_TIMEOUT_SECONDS = 30.0

# A URL's entry in the batch's hash is its state, followed while it is in flight by a tab and the URL itself, so
# that a URL whose task message was lost can be queued again from Redis alone; a final state drops the URL.
_MOVE = """
local new, final, now = ARGV[1], ARGV[2] == '1', ARGV[3]
local moved = {}
local deltas = {}
local changed, unknown = false, false
for i = 5, #ARGV do
  local old = redis.call('HGET', KEYS[2], ARGV[i])
  local old_state, url = nil, ''
  if old then
    local tab = string.find(old, '\t', 1, true)
    if tab then old_state, url = string.sub(old, 1, tab - 1), string.sub(old, tab) else old_state = old end
  else
    unknown = true
  end
  if old_state == new then
    moved[#moved + 1] = '0'
  else
    redis.call('HSET', KEYS[2], ARGV[i], final and new or new .. url)
    if old_state then deltas[old_state] = (deltas[old_state] or 0) - 1 end
    deltas[new] = (deltas[new] or 0) + 1
    moved[#moved + 1] = '1'
    changed = true
  end
end
for state, delta in pairs(deltas) do
  if delta ~= 0 then redis.call('HINCRBY', KEYS[1], state, delta) end
end
if changed then
  redis.call('HSET', KEYS[1], 'updated', now)
  -- The producer creates a batch's keys with their lifetime; a move that finds them gone (a URL finishing after
  -- the batch expired, so not in the batch's hash) must not leave keys that never expire.
  if unknown and redis.call('HSETNX', KEYS[1], 'created', now) == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[4])
    redis.call('EXPIRE', KEYS[2], ARGV[4])
  end
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

    def keys(self, batch: str) -> list[str]:
        """The batch's counters, its URLs' states and the index of recent batches."""
        return [f"{self.prefix}batch:{batch}", f"{self.prefix}batch:{batch}:urls", f"{self.prefix}batches"]

    def move_many(self, batch: str, url_ids: list[str], state: State) -> list[bool]:
        """Move many URLs in one script call; says for each whether it changed state."""
        if not url_ids:
            return []
        args = [state.value, "1" if state in FINAL_STATES else "0", time.time(), self.ttl, *url_ids]
        return flags(self._move(keys=self.keys(batch)[:2], args=args))

    def record_failure(self, record: dict[str, Any]) -> None:
        key = f"{self.prefix}failures"
        with self.client.pipeline(transaction=False) as pipe:
            pipe.lpush(key, json.dumps(record))
            pipe.ltrim(key, 0, self.failures_kept - 1)
            pipe.execute()

    def recent_failures(self, limit: int = 10) -> list[dict[str, Any]]:
        return [json.loads(item) for item in self.client.lrange(f"{self.prefix}failures", 0, limit - 1)]

    def progress(self, batch: str) -> BatchProgress | None:
        raw = self.client.hgetall(self.keys(batch)[0])
        if not raw:
            return None
        fields = {_text(k): _text(v) for k, v in raw.items()}
        counts = {state.value: int(fields.get(state.value, 0)) for state in State}
        return BatchProgress(
            batch=batch, **counts,
            created=float(fields["created"]) if "created" in fields else None,
            updated=float(fields["updated"]) if "updated" in fields else None,
        )

    def unfinished_urls(self, batch: str) -> dict[str, str | None]:
        """The batch's URLs that are not in a final state yet: id -> URL (None where Redis does not hold it)."""
        final = {state.value for state in FINAL_STATES}
        unfinished: dict[str, str | None] = {}
        for url_id, entry in self.client.hscan_iter(self.keys(batch)[1]):
            state, _, url = _text(entry).partition("\t")
            if state not in final:
                unfinished[_text(url_id)] = url or None
        return unfinished

    def recent_batches(self, limit: int = 10) -> list[str]:
        return [_text(b) for b in self.client.zrevrange(f"{self.prefix}batches", 0, limit - 1)]


class GroupedMoves(GroupCommit[tuple[str, str, State]]):
    """Moves from many threads, sent as one script call per batch and state for what is pending: pages that
    leave one ``_bulk`` together reach their final state in one call, the counters' updates paid once."""

    def __init__(self, progress: ProgressTracker, *, flush_interval: float = MOVES_FLUSH_SECONDS) -> None:
        self.progress = progress
        super().__init__(max_items=MOVES_AT_ONCE, flush_interval=flush_interval, name="readq-progress")

    def move(self, batch: str, url_id: str, state: State, timeout: float = MOVE_TIMEOUT_SECONDS) -> bool:
        """Record ``state`` for a URL, returning once Redis has it; says whether it changed state."""
        return bool(self._answer_within((batch, url_id, state), timeout, or_raise=redis.TimeoutError(
            f"no answer from Redis within {timeout:g} s moving {url_id} to {state}")))

    def _send(self, units: list[Unit[tuple[str, str, State]]]) -> None:
        groups: defaultdict[tuple[str, State], list[Unit[tuple[str, str, State]]]] = defaultdict(list)
        for unit in units:
            batch, _, state = unit.item
            groups[batch, state].append(unit)
        for (batch, state), members in groups.items():
            self._settle(members, partial(self.progress.move_many, batch, [unit.item[1] for unit in members], state))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def flags(reply: bytes | str) -> list[bool]:
    """A script's answer for many items: one ``0``/``1`` character each (a string parses faster than a list)."""
    text = reply.decode() if isinstance(reply, bytes) else reply
    return [flag == "1" for flag in text]
