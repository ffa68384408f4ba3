"""Admitting URLs into a batch: the seen-set claim, the ``queued`` state and the fetch message, in one script.

The three writes are one Lua script per chunk, so Redis applies all of them or none: a producer killed at any
moment leaves no URL claimed in the seen-set (which would make a re-run skip it as ``already_seen``) without its
message on the queue and its place in the batch's counters. The script also runs each URL's checks inside Redis,
one round trip for the chunk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from workers.state.progress import ProgressTracker
from workers.state.seen import SeenSet

ACCEPTED, ALREADY_SEEN, ALREADY_QUEUED = "1", "s", "q"
PUSH_AT_ONCE = 500  # messages per LPUSH inside the script (Lua's unpack has a stack limit)

# KEYS: batch counters, batch URL states, recent batches, the fetch queue, then one seen-set hash per URL.
# ARGV: refetch window (minutes), force, batch TTL (s), batch id, then per URL: seen field, id, URL, message.
_ADMIT = """#!lua
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local minute = math.floor(tonumber(t[1]) / 60)
local window, force, ttl, batch = tonumber(ARGV[1]), ARGV[2] == '1', ARGV[3], ARGV[4]
local outcome, claims, admitted, messages, deltas = {}, {}, {}, {}, {}
-- Reads first, writes after, the queue's first: a write refused half-way (a key of the wrong type) then leaves
-- nothing claimed that is not queued. (The shebang makes Redis refuse the whole script up front when out of memory.)
for i = 5, #KEYS do
  local a = 5 + (i - 5) * 4
  local seen = tonumber(redis.call('HGET', KEYS[i], ARGV[a]) or '-1')
  if not force and seen >= 0 and minute - seen < window then
    outcome[#outcome + 1] = 's'
  else
    claims[#claims + 1] = i
    local old = redis.call('HGET', KEYS[2], ARGV[a + 1])
    local old_state = old and string.match(old, '^[^\t]*')
    if old_state == 'queued' then
      outcome[#outcome + 1] = 'q'
    else
      if old_state then deltas[old_state] = (deltas[old_state] or 0) - 1 end
      deltas['queued'] = (deltas['queued'] or 0) + 1
      admitted[#admitted + 1] = a
      messages[#messages + 1] = ARGV[a + 3]
      outcome[#outcome + 1] = '1'
    end
  end
end
for start = 1, #messages, PUSH_AT_ONCE do
  redis.call('LPUSH', KEYS[4], unpack(messages, start, math.min(start + PUSH_AT_ONCE - 1, #messages)))
end
for _, i in ipairs(claims) do redis.call('HSET', KEYS[i], ARGV[5 + (i - 5) * 4], minute) end
for _, a in ipairs(admitted) do redis.call('HSET', KEYS[2], ARGV[a + 1], 'queued\t' .. ARGV[a + 2]) end
if #messages > 0 then
  for state, delta in pairs(deltas) do
    if delta ~= 0 then redis.call('HINCRBY', KEYS[1], state, delta) end
  end
  redis.call('HSET', KEYS[1], 'updated', now)
  redis.call('HSETNX', KEYS[1], 'created', now)
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('ZADD', KEYS[3], 'NX', now, batch)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ttl))
end
return table.concat(outcome)
""".replace("PUSH_AT_ONCE", str(PUSH_AT_ONCE))


@dataclass(frozen=True)
class Candidate:
    """A URL to admit: normalised, its id, and the fetch message that queues it."""

    url: str
    url_id: str
    message: str


class Admission:
    def __init__(self, *, client: redis.Redis, seen: SeenSet, progress: ProgressTracker, queue_key: str) -> None:
        self.client = client
        self.seen = seen
        self.progress = progress
        self.queue_key = queue_key
        self._admit = client.register_script(_ADMIT)

    def admit(self, batch: str, candidates: Sequence[Candidate], *, force: bool = False) -> Counter[str]:
        """Claim, record and queue the candidates that may be queued; count them by outcome: ``accepted``,
        ``already_seen`` (queued within the refetch period, and not ``force``) and ``already_queued`` (waiting
        in this batch already)."""
        if not candidates:
            return Counter()
        slots = [self.seen.slot(c.url_id) for c in candidates]
        args: list[str | bytes | int] = [self.seen.refetch_after_minutes, "1" if force else "0",
                                         self.progress.ttl, batch]
        for candidate, (_, field) in zip(candidates, slots, strict=True):
            args += [field, candidate.url_id, candidate.url, candidate.message]
        reply = self._admit(keys=[*self.progress.keys(batch), self.queue_key, *(key for key, _ in slots)], args=args)
        flags = reply.decode() if isinstance(reply, bytes) else str(reply)
        names = {ACCEPTED: "accepted", ALREADY_SEEN: "already_seen", ALREADY_QUEUED: "already_queued"}
        return Counter(names[flag] for flag in flags)

