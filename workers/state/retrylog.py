"""What a URL waiting for a retry is waiting for: its last error, the attempt that failed and when the next one is
due, kept in Redis until that attempt has had time to run.

The stage that schedules a retry calls :meth:`RetryLog.record` (one pipeline: a small hash per URL and its place
in a sorted set by due time); ``readq get`` and ``readq status`` read them back. Both are bounded: each hash
expires a while after its attempt was due, and the sorted set keeps the latest ``kept`` entries.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import redis

from config.settings import Settings
from workers.times import iso_time

KEPT = 10_000  # URLs the "retrying" index remembers; beyond that the ones due soonest are dropped first
GRACE_SECONDS = 600  # how long a record outlives the time its attempt was due (the attempt may wait in a queue)


@dataclass(frozen=True)
class PendingRetry:
    url: str
    batch: str
    stage: str
    reason: str
    error: str
    attempt: int  # the attempt that failed (1 = the first)
    next_attempt_at: float  # epoch s

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "next_attempt_at": iso_time(self.next_attempt_at)}

    def describe(self) -> str:
        return (f"attempt {self.attempt} failed at the {self.stage} stage ({self.reason}: {self.error}); "
                f"next attempt at {iso_time(self.next_attempt_at)}")


class RetryLog:
    def __init__(self, *, client: redis.Redis, prefix: str, kept: int = KEPT) -> None:
        self.client = client
        self.prefix = prefix
        self.kept = kept

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis) -> RetryLog:
        return cls(client=client, prefix=settings.redis_prefix)

    def _key(self, url_id: str) -> str:
        return f"{self.prefix}retry:{url_id}"

    @property
    def _index(self) -> str:
        return f"{self.prefix}retrying"

    def record(self, url: str, url_id: str, batch: str, *, stage: str, reason: str, error: str, attempt: int,
               countdown: float, now: float | None = None) -> None:
        """Attempt ``attempt`` of ``url`` failed with ``reason``/``error``; the next one runs in ``countdown`` s."""
        now = time.time() if now is None else now
        due = now + countdown
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hset(self._key(url_id), mapping={"url": url, "batch": batch, "stage": stage, "reason": reason,
                                                  "error": error[:500], "attempt": attempt, "next_at": due})
            pipe.expire(self._key(url_id), int(countdown + GRACE_SECONDS))
            pipe.zadd(self._index, {url_id: due})
            pipe.zremrangebyscore(self._index, "-inf", now - GRACE_SECONDS)
            pipe.zremrangebyrank(self._index, 0, -self.kept - 1)
            pipe.execute()

    def clear(self, url_id: str) -> None:
        """The URL reached a final state: it waits for nothing. Two commands: give a pipeline as the client to
        send them with others."""
        self.client.delete(self._key(url_id))
        self.client.zrem(self._index, url_id)

    def pending(self, url_id: str) -> PendingRetry | None:
        return _parse(self.client.hgetall(self._key(url_id)))

    def waiting(self, limit: int = 10) -> tuple[int, list[PendingRetry]]:
        """How many URLs wait for a retry, and the ``limit`` due soonest."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(self._index, "-inf", time.time() - GRACE_SECONDS)
            pipe.zcard(self._index)
            pipe.zrange(self._index, 0, limit - 1)
            _, count, soonest = pipe.execute()
        with self.client.pipeline(transaction=False) as pipe:
            for url_id in soonest:
                pipe.hgetall(self._key(url_id.decode() if isinstance(url_id, bytes) else str(url_id)))
            found = [retry for raw in pipe.execute() if (retry := _parse(raw)) is not None]
        return int(count), found


def _parse(raw: dict[Any, Any]) -> PendingRetry | None:
    if not raw:
        return None
    fields = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
              for k, v in raw.items()}
    return PendingRetry(url=fields["url"], batch=fields["batch"], stage=fields["stage"], reason=fields["reason"],
                        error=fields["error"], attempt=int(fields["attempt"]), next_attempt_at=float(fields["next_at"]))
