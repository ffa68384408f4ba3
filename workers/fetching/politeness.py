"""Per-host politeness shared by every worker: a request-rate slot schedule and a concurrency limit in Redis.

``reserve`` hands out the host's next free start time (and moves it on by the host's interval), so N waiting
URLs get N distinct slots instead of all retrying at once. A task whose slot is in the future is deferred to it
(not slept on); at its slot it takes a concurrency ``lease`` (leases expire by themselves if a worker dies).
``penalize`` pushes a host's next slot out (Retry-After, repeated connection errors). Leases that come back
within ``RELEASE_FLUSH_SECONDS`` of each other, from any of a worker's threads, are given back in one round trip.
"""

from __future__ import annotations

import fnmatch
import uuid
from dataclasses import dataclass

import redis

from config.settings import Settings
from workers.groupcommit import GroupCommit, Unit

RELEASE_FLUSH_SECONDS = 0.05
RELEASES_AT_ONCE = 500
RELEASE_TIMEOUT_SECONDS = 30.0

# Times come from Redis's own clock, so that workers on machines with skewed clocks still agree.
_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

# Expired leases (their workers died) are swept only when the host looks full: they never count, and at most
# the limit of them waits in the set.
_TAKE_LEASE = """
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 0 end
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[5])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]) + 60000)
return 1
"""

# Reserve the next start slot; when it is now, take a lease in the same call (the common case: one round trip).
# Answers {milliseconds until the slot, or -1 if further than ARGV[2]; 1 if leased}.
_RESERVE = _NOW + """
local function take_lease()""" + _TAKE_LEASE + """end
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
if slot - now > tonumber(ARGV[2]) then return {-1, 0} end
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', slot - now + tonumber(ARGV[1]) + 60000)
if slot > now then return {slot - now, 0} end
return {0, take_lease()}
"""

_LEASE = _NOW + _TAKE_LEASE

_PENALIZE = _NOW + """
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 60000) end
return 1
"""


@dataclass(frozen=True)
class Lease:
    host: str
    token: str


class GroupedReleases(GroupCommit[tuple[Lease, bool]]):
    """Leases given back from many threads, sent as one pipeline: a lease's ``ZREM``, and the host's error count
    deleted when the host answered."""

    def __init__(self, gate: HostGate) -> None:
        self.gate = gate
        super().__init__(max_items=RELEASES_AT_ONCE, flush_interval=RELEASE_FLUSH_SECONDS, name="readq-leases")

    def release(self, lease: Lease, answered: bool) -> None:
        self._answer_within((lease, answered), RELEASE_TIMEOUT_SECONDS, or_raise=redis.TimeoutError(
            f"no answer from Redis within {RELEASE_TIMEOUT_SECONDS:g} s giving back a lease on {lease.host}"))

    def _send(self, units: list[Unit[tuple[Lease, bool]]]) -> None:
        self._settle(units, lambda: self._release_all([unit.item for unit in units]))

    def _release_all(self, releases: list[tuple[Lease, bool]]) -> list[None]:
        with self.gate.client.pipeline(transaction=False) as pipe:
            for lease, answered in releases:
                pipe.zrem(self.gate.key(lease.host, "leases"), lease.token)
                if answered:
                    pipe.delete(self.gate.key(lease.host, "errors"))
            pipe.execute()
        return [None] * len(releases)


class HostGate:
    def __init__(self, *, client: redis.Redis, prefix: str, requests_per_second: float,
                 rate_limits: dict[str, float], max_concurrency: int, lease_seconds: float,
                 error_threshold: int, backoff_max: float) -> None:
        self.client = client
        self.prefix = prefix
        self.requests_per_second = requests_per_second
        self.rate_limits = rate_limits
        self.max_concurrency = max_concurrency
        self.lease_ms = int(lease_seconds * 1000)
        self.error_threshold = error_threshold
        self.backoff_max = backoff_max
        self._reserve = client.register_script(_RESERVE)
        self._lease = client.register_script(_LEASE)
        self._penalize = client.register_script(_PENALIZE)
        self._releases = GroupedReleases(self)

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis) -> HostGate:
        return cls(client=client, prefix=settings.redis_prefix,
                   requests_per_second=settings.host_requests_per_second, rate_limits=settings.host_rate_limits,
                   max_concurrency=settings.host_max_concurrency, lease_seconds=settings.fetch_deadline + 30,
                   error_threshold=settings.host_error_threshold, backoff_max=settings.host_backoff_max)

    def interval(self, host: str, crawl_delay: float | None = None) -> float:
        """Seconds between two request starts to ``host``: its configured rate, or Crawl-delay if slower."""
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        rate = next((r for pattern, r in self.rate_limits.items() if fnmatch.fnmatch(hostname, pattern)),
                    self.requests_per_second)
        return max(1.0 / rate, crawl_delay or 0.0)

    def reserve(self, host: str, interval: float, max_wait: float) -> tuple[float | None, Lease | None]:
        """Reserve the host's next start slot: seconds until it (None if it is further than ``max_wait`` away:
        nothing reserved then), and when the slot is now, one of the host's concurrent request slots if one is
        free (see :meth:`lease`)."""
        token = uuid.uuid4().hex
        wait_ms, leased = self._reserve(keys=[self.key(host, "next"), self.key(host, "leases")],
                                        args=[int(interval * 1000), int(max_wait * 1000), self.max_concurrency,
                                              self.lease_ms, token])
        if int(wait_ms) < 0:
            return None, None
        return int(wait_ms) / 1000, Lease(host, token) if int(leased) else None

    def lease(self, host: str) -> Lease | None:
        """One of the host's concurrent request slots, or None when all are taken."""
        token = uuid.uuid4().hex
        taken = self._lease(keys=[self.key(host, "next"), self.key(host, "leases")],
                            args=[0, 0, self.max_concurrency, self.lease_ms, token])
        return Lease(host, token) if taken else None

    def release(self, lease: Lease, *, answered: bool = False) -> None:
        """Give the request slot back, returning once Redis has it; ``answered``: the host answered, so its
        connection-error count restarts."""
        self._releases.release(lease, answered)

    def close(self) -> None:
        """Send the releases still pending and stop their thread."""
        self._releases.close()

    def penalize(self, host: str, seconds: float) -> None:
        """No request to ``host`` starts before ``seconds`` from now."""
        self._penalize(keys=[self.key(host, "next")], args=[int(min(seconds, self.backoff_max) * 1000)])

    def connection_failed(self, host: str, interval: float) -> None:
        """Count a connection error; from the threshold on, back the host off exponentially."""
        key = self.key(host, "errors")
        with self.client.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, int(self.backoff_max) * 2)
            errors = int(pipe.execute()[0])
        if errors >= self.error_threshold:
            self.penalize(host, interval * 2 ** (errors - self.error_threshold + 1))

    def key(self, host: str, what: str) -> str:
        return f"{self.prefix}host:{host}:{what}"
