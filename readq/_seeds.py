"""Seeding: the page URLs a sitemap (or sitemap index, gzipped or not) or an RSS/Atom feed lists.

Every seed document is fetched through ``fetch_seed`` (the producer passes :class:`PoliteSeedFetch`: robots.txt,
the fleet's per-host schedule, and the safe fetcher with its address guard, timeouts and size cap). Each seed is
bounded (:class:`SeedLimits`): sitemap documents fetched, page URLs listed and wall time; what passes a bound is
refused with :class:`SeedLimitExceeded`, after the URLs read so far. Sitemaps are parsed with lxml's XML parser
with entity resolution and network access off; feeds with feedparser.
"""

from __future__ import annotations

import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import feedparser
import lxml.etree

from config.settings import Settings
from workers.errors import BodyTooLarge, FetchError, ReadqError
from workers.fetching.fetcher import Fetcher
from workers.fetching.politeness import HostGate
from workers.fetching.robots import RobotsPending, RobotsPolicy

XML_TYPES = frozenset({
    "application/xml", "text/xml", "application/gzip", "application/x-gzip", "application/octet-stream",
    "text/plain",
})
FEED_TYPES = XML_TYPES | {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}
MAX_SITEMAP_DEPTH = 3  # sitemap index -> sitemap index -> sitemap
_PARSER = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)

#: ``fetch_seed(url, accepted media types, monotonic deadline)`` -> the body.
SeedFetch = Callable[[str, frozenset[str], float], bytes]


class SeedLimitExceeded(ReadqError):
    """Raised while reading a seed that lists more sitemaps or URLs, or takes longer, than its limits allow."""

    reason = "seed_too_large"


@dataclass(frozen=True)
class SeedLimits:
    max_sitemaps: int  # sitemap documents fetched for one seed, the seed itself included
    max_urls: int  # page URLs taken from one seed
    max_seconds: float  # wall time for one seed

    @classmethod
    def from_settings(cls, settings: Settings) -> SeedLimits:
        return cls(max_sitemaps=settings.seed_max_sitemaps, max_urls=settings.seed_max_urls,
                   max_seconds=settings.seed_max_seconds)


class SeedReader:
    def __init__(self, fetch_seed: SeedFetch, limits: SeedLimits, *, max_body_bytes: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.fetch_seed = fetch_seed
        self.limits = limits
        self.max_body_bytes = max_body_bytes
        self.clock = clock

    def sitemap_urls(self, url: str) -> Iterator[str]:
        """Every page ``<loc>`` of a sitemap, following sitemap indexes breadth-first (at most MAX_SITEMAP_DEPTH
        deep), within the seed's limits."""
        deadline = self.clock() + self.limits.max_seconds
        pending: deque[tuple[str, int]] = deque([(url, 0)])
        fetched = listed = 0
        while pending:
            sitemap, depth = pending.popleft()
            if fetched >= self.limits.max_sitemaps:
                raise SeedLimitExceeded(f"{url} lists more than {self.limits.max_sitemaps} sitemaps "
                                        f"(READQ_SEED_MAX_SITEMAPS); {listed} URLs read, {len(pending) + 1} "
                                        "sitemaps left unread")
            self._check_time(url, deadline, listed)
            fetched += 1
            kind, locations = self._read_sitemap(sitemap, deadline)
            if kind == "sitemapindex":
                if depth >= MAX_SITEMAP_DEPTH:
                    raise FetchError(f"sitemap indexes nested deeper than {MAX_SITEMAP_DEPTH} at {sitemap}")
                pending.extend((child, depth + 1) for child in locations)
                continue
            for location in locations:
                if listed >= self.limits.max_urls:
                    raise SeedLimitExceeded(f"{url} lists more than {self.limits.max_urls} URLs "
                                            "(READQ_SEED_MAX_URLS); the rest is not queued")
                listed += 1
                yield location

    def feed_urls(self, url: str) -> Iterator[str]:
        """The entry links of an RSS or Atom feed, at most ``max_urls``."""
        deadline = self.clock() + self.limits.max_seconds
        parsed = feedparser.parse(self.fetch_seed(url, FEED_TYPES, deadline))
        if not parsed.entries and parsed.bozo:
            raise FetchError(f"{url} is not a feed: {parsed.bozo_exception}")
        links = [str(entry.link) for entry in parsed.entries if entry.get("link")]
        yield from links[:self.limits.max_urls]
        if len(links) > self.limits.max_urls:
            raise SeedLimitExceeded(f"{url} lists {len(links)} entries, more than {self.limits.max_urls} "
                                    "(READQ_SEED_MAX_URLS); the rest is not queued")

    def _read_sitemap(self, url: str, deadline: float) -> tuple[str, list[str]]:
        root = lxml.etree.fromstring(_ungzip(self.fetch_seed(url, XML_TYPES, deadline), self.max_body_bytes),
                                     parser=_PARSER)
        if root is None:
            raise FetchError(f"{url} is not a sitemap (no XML root)")
        kind = lxml.etree.QName(root).localname
        if kind not in ("sitemapindex", "urlset"):
            raise FetchError(f"{url} is not a sitemap (root element <{kind}>)")
        return kind, [loc.text.strip() for loc in root.iter("{*}loc") if loc.text and loc.text.strip()]

    def _check_time(self, url: str, deadline: float, listed: int) -> None:
        if self.clock() > deadline:
            raise SeedLimitExceeded(f"reading {url} took more than {self.limits.max_seconds:g} s "
                                    f"(READQ_SEED_MAX_SECONDS); {listed} URLs read")


@dataclass(frozen=True)
class PoliteSeedFetch:
    """Fetches a seed document as a worker would fetch a page: robots.txt first (if obeyed), then a start slot in
    the host's shared schedule and a concurrency lease, then the safe fetcher. Waits (never past ``deadline``)
    instead of deferring: the producer has no queue to come back from."""

    fetcher: Fetcher
    gate: HostGate
    robots: RobotsPolicy | None
    poll_seconds: float = 0.2

    def __call__(self, url: str, accept: frozenset[str], deadline: float) -> bytes:
        host = urlsplit(url).netloc
        crawl_delay = self._robots(url, deadline)
        interval = self.gate.interval(host, crawl_delay)
        while (slot := self.gate.reserve(host, interval, max(0.0, deadline - time.monotonic())))[0] is None:
            self._pause(url, deadline, interval)
        wait, lease = slot
        if wait:
            time.sleep(wait)
            lease = None  # a slot still to come is leased when it comes
        while lease is None:
            lease = self.gate.lease(host)
            if lease is None:
                self._pause(url, deadline, self.poll_seconds)
        try:
            return self.fetcher.fetch(url, accept=accept).body
        finally:
            self.gate.release(lease)

    def _robots(self, url: str, deadline: float) -> float | None:
        while self.robots is not None:
            try:
                return self.robots.check(url)
            except RobotsPending:
                self._pause(url, deadline, self.poll_seconds)
        return None

    @staticmethod
    def _pause(url: str, deadline: float, seconds: float) -> None:
        if time.monotonic() + seconds > deadline:
            raise SeedLimitExceeded(f"no turn to fetch {url} before the seed's time limit (READQ_SEED_MAX_SECONDS)")
        time.sleep(seconds)


def _ungzip(body: bytes, limit: int) -> bytes:
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    inflated = inflater.decompress(body, limit + 1)
    if len(inflated) > limit:
        raise BodyTooLarge(f"gzipped sitemap inflates past the {limit}-byte cap")
    return inflated
