"""The fetch policy around the safe fetcher: robots.txt, the shared per-host schedule, backoff, conditional GET.

``PoliteFetcher.fetch`` either fetches now or says when to come back (:class:`Deferral`): a task that must wait
gives its worker slot back instead of sleeping on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from workers.errors import FetchConnectionError, FetchTimeout, ServerError
from workers.fetching.fetcher import FetchedPage, Fetcher
from workers.fetching.politeness import HostGate
from workers.fetching.robots import RobotsPending, RobotsPolicy

ROBOTS_PENDING_DEFER = 1.0  # s to come back when another worker is still fetching the host's robots.txt


@dataclass(frozen=True)
class PreviousFetch:
    """Validators and text hash of the indexed version, for a conditional re-fetch."""

    etag: str | None
    last_modified: str | None
    content_hash: str | None
    batch: str | None


@dataclass(frozen=True)
class Deferral:
    """Come back in ``countdown`` seconds; ``slot_at`` (epoch s) is the start slot reserved meanwhile, if any."""

    countdown: float
    slot_at: float | None


class PoliteFetcher:
    def __init__(self, *, fetcher: Fetcher, gate: HostGate, robots: RobotsPolicy | None, max_defer: float,
                 wait_in_place: float, previous: Callable[[str], PreviousFetch | None],
                 pushback_http_codes: frozenset[int]) -> None:
        """A slot up to ``wait_in_place`` seconds away is waited for on the calling thread: a deferral costs a
        new task message (about ten Redis commands and a trip through the queue), a short sleep costs a thread."""
        self.fetcher = fetcher
        self.gate = gate
        self.robots = robots
        self.max_defer = max_defer
        self.wait_in_place = wait_in_place
        self.previous = previous
        self.pushback_http_codes = pushback_http_codes

    def fetch(self, url: str, batch: str, *, slot_at: float | None = None
              ) -> tuple[FetchedPage, PreviousFetch | None] | Deferral:
        """Fetch now, or say when to come back. The indexed version of the page, if a batch before this one made
        it, makes the request conditional; a redelivery within the same batch just does the work again."""
        host = urlsplit(url).netloc
        try:
            crawl_delay = self.robots.check(url) if self.robots is not None else None
        except RobotsPending:
            return Deferral(ROBOTS_PENDING_DEFER, None)
        interval = self.gate.interval(host, crawl_delay)
        if slot_at is None or time.time() - slot_at > interval / 2:  # no slot, or too late for it: take a new one
            wait, lease = self.gate.reserve(host, interval, self.max_defer)  # a slot that is now comes leased
            if wait is None:
                return Deferral(self.max_defer, None)
            if wait > self.wait_in_place:
                return Deferral(wait, time.time() + wait)
            if wait > 0:
                time.sleep(wait)
                lease = self.gate.lease(host)
        else:
            lease = self.gate.lease(host)
        if lease is None:
            return Deferral(interval, None)
        previous = self.previous(url)
        if previous is not None and previous.batch == batch:
            previous = None
        answered = False
        try:
            page = self.fetcher.fetch(url, etag=previous.etag if previous else None,
                                      last_modified=previous.last_modified if previous else None)
            answered = True
        except ServerError as exc:
            if exc.status in self.pushback_http_codes:
                self.gate.penalize(host, exc.retry_after if exc.retry_after is not None else interval * 4)
            raise
        except (FetchConnectionError, FetchTimeout):
            self.gate.connection_failed(host, interval)
            raise
        finally:
            self.gate.release(lease, answered=answered)
        return page, previous
