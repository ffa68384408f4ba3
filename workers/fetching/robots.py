"""robots.txt per origin: fetched once, cached in Redis for every worker, parsed with protego.

A 2xx answer is parsed; a 4xx means "no rules" (allowed); a 5xx or a timeout means "try later", remembered for
``retry_after`` seconds so that the whole fleet does not hammer a failing host. A host whose address readq must
not reach is remembered as blocked just as long, so that all its URLs end at once rather than one robots.txt
attempt each. Each process also keeps what it read for ``LOCAL_SECONDS`` (a bounded table of origins), which spares
a Redis round trip per fetch.
"""

from __future__ import annotations

import threading
import time
import zlib
from functools import lru_cache
from urllib.parse import urlsplit

import redis
from cachetools import TTLCache
from protego import Protego

from config.settings import Settings
from workers.errors import (
    BlockedAddress,
    FetchConnectionError,
    FetchError,
    FetchTimeout,
    RobotsDisallowed,
    RobotsUnavailable,
    ServerError,
)
from workers.fetching.fetcher import Fetcher

ALLOW_ALL = b"A"
UNAVAILABLE = b"U"
BLOCKED = b"B"  # followed by the reason the address guard gave
RULES = b"R"
PENDING = b"P"  # a worker is fetching it
MAX_ROBOTS_BYTES = 512 * 1024  # Google reads the first 500 KiB; the rest is ignored
LOCK_POLLS, LOCK_POLL_SECONDS = 10, 0.1  # how long a worker waits for another's robots.txt fetch
LOCAL_ORIGINS, LOCAL_SECONDS = 4096, 30.0  # what one process remembers of Redis's cache, and how long


class RobotsPending(Exception):
    """Another worker is fetching this origin's robots.txt right now: come back shortly."""


class RobotsPolicy:
    def __init__(self, *, client: redis.Redis, prefix: str, fetcher: Fetcher, user_agent: str, ttl: int,
                 retry_after: int) -> None:
        self.client = client
        self.prefix = prefix
        self.fetcher = fetcher
        self.agent = user_agent.split("/", 1)[0]  # robots.txt groups name the product token: "readq"
        self.ttl = ttl
        self.retry_after = retry_after
        self._local: TTLCache[str, bytes] = TTLCache(maxsize=LOCAL_ORIGINS, ttl=min(LOCAL_SECONDS, retry_after))
        self._local_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis, fetcher: Fetcher) -> RobotsPolicy:
        return cls(client=client, prefix=settings.redis_prefix, fetcher=fetcher, user_agent=settings.user_agent,
                   ttl=settings.robots_ttl, retry_after=settings.robots_retry_after)

    def check(self, url: str) -> float | None:
        """Raise RobotsDisallowed or RobotsUnavailable; otherwise return the Crawl-delay (s) if one is set."""
        origin = _origin(url)
        cached = self._cached(origin)
        if cached.startswith(BLOCKED):
            raise BlockedAddress(cached[len(BLOCKED):].decode())
        if cached == UNAVAILABLE:
            raise RobotsUnavailable(f"{origin}/robots.txt is unavailable; trying later", retry_after=self.retry_after)
        if cached == ALLOW_ALL:
            return None
        rules = _parse(cached)
        if not rules.can_fetch(url, self.agent):
            raise RobotsDisallowed(f"{origin}/robots.txt disallows {url} for {self.agent}")
        delay = rules.crawl_delay(self.agent)
        return float(delay) if delay is not None else None

    def _cached(self, origin: str) -> bytes:
        with self._local_lock:
            cached = self._local.get(origin)
        if cached is None:
            cached = self._cached_or_fetched(origin)
            with self._local_lock:
                self._local[origin] = cached
        return cached

    def unavailable_until(self, url: str) -> float | None:
        """When the URL's origin, whose robots.txt could not be read, is asked again (epoch s); None if it is not
        waiting for that."""
        key = self._key(_origin(url))
        with self.client.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.pttl(key)
            cached, left_ms = pipe.execute()
        return time.time() + left_ms / 1000 if cached == UNAVAILABLE and left_ms > 0 else None

    def _cached_or_fetched(self, origin: str) -> bytes:
        """The cached robots.txt; if there is none, one worker fetches it while the others wait for it."""
        key = self._key(origin)
        # One command reads the cache and, when it is empty, claims the fetch: the claim is the entry itself,
        # marked pending until the fetch replaces it (or it expires, if its worker died).
        cached = self.client.set(key, PENDING, nx=True, get=True, px=int(self.fetcher.deadline * 1000) + 5000)
        if cached is None:
            try:
                fetched = self._fetch(origin)
            except BaseException:
                self.client.delete(key)
                raise
            self.client.set(key, fetched, ex=self.ttl if fetched[:1] in (RULES, ALLOW_ALL) else self.retry_after)
            return fetched
        polls = 0
        while not isinstance(cached, bytes) or cached == PENDING:
            if polls == LOCK_POLLS:
                raise RobotsPending(f"another worker is fetching {origin}/robots.txt")
            time.sleep(LOCK_POLL_SECONDS)
            cached = self.client.get(key)
            polls += 1
        return cached

    def _key(self, origin: str) -> str:
        return f"{self.prefix}robots:{origin}"

    def _fetch(self, origin: str) -> bytes:
        try:
            page = self.fetcher.fetch(f"{origin}/robots.txt", accept=None)
        except (ServerError, FetchTimeout, FetchConnectionError):
            return UNAVAILABLE
        except BlockedAddress as exc:  # the pages themselves are just as unreachable
            return BLOCKED + str(exc).encode()
        except FetchError:  # 4xx, too many redirects, too large: no usable rules, so no restrictions
            return ALLOW_ALL
        return RULES + zlib.compress(page.body[:MAX_ROBOTS_BYTES])


@lru_cache(maxsize=1024)
def _parse(cached: bytes) -> Protego:
    return Protego.parse(zlib.decompress(cached[len(RULES):]).decode("utf-8", errors="replace"))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
