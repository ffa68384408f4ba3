"""The fetch policy around one request: whatever the request's outcome its host lease is given back, and only
the settings' pushback answers pause the whole host."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.support.httpserver import LocalSite
from tests.unit.conftest import RedisNamespace
from tests.unit.fetching.test_fetcher import make_fetcher
from tests.unit.fetching.test_politeness import make_gate
from workers.errors import FetchConnectionError, HTTPStatusError, ServerError
from workers.fetching.fetcher import FetchedPage
from workers.fetching.policy import PoliteFetcher


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    with LocalSite() as test_site:
        yield test_site


def closed_port_url() -> str:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/page"


def leases(ns: RedisNamespace, url: str) -> int:
    return int(ns.client.zcard(f"{ns.prefix}host:{urlsplit(url).netloc}:leases"))


@pytest.mark.parametrize(("path", "error"), [
    ("/pages/news-de.html", None), ("/status/404", HTTPStatusError), ("/status/503", ServerError),
    (None, FetchConnectionError),
])
def test_the_lease_is_released_on_every_path(redis_ns: RedisNamespace, site: LocalSite, path: str | None,
                                             error: type[Exception] | None) -> None:
    url = site.url(path) if path else closed_port_url()
    gate = make_gate(redis_ns, requests_per_second=1000.0, max_concurrency=1)
    taken: list[int] = []
    policy = PoliteFetcher(fetcher=make_fetcher(), gate=gate, robots=None, max_defer=60, wait_in_place=1,
                           previous=lambda _: taken.append(leases(redis_ns, url)),  # asked while leased
                           pushback_http_codes=frozenset({429, 503}))

    if error is None:
        assert isinstance(policy.fetch(url, "b")[0], FetchedPage)  # type: ignore[index]
    else:
        with pytest.raises(error):
            policy.fetch(url, "b")

    assert taken == [1]
    assert leases(redis_ns, url) == 0


class RecordingGate:
    """A host schedule that always has a slot now, and remembers the pauses it is asked for."""

    def __init__(self) -> None:
        self.penalties: list[tuple[str, float]] = []

    def interval(self, host: str, crawl_delay: float | None) -> float:
        return 2.0

    def reserve(self, host: str, interval: float, max_defer: float) -> tuple[float, str]:
        return 0.0, "lease"

    def release(self, lease: str, *, answered: bool) -> None:
        pass

    def penalize(self, host: str, seconds: float) -> None:
        self.penalties.append((host, seconds))


class AnsweringWith:
    def __init__(self, status: int, retry_after: float | None) -> None:
        self.status, self.retry_after = status, retry_after

    def fetch(self, url: str, **_: object) -> None:
        raise ServerError(f"{url} answered HTTP {self.status}", status=self.status, retry_after=self.retry_after)


@pytest.mark.parametrize(("status", "retry_after", "penalties"), [
    (425, 30.0, [("example.com", 30.0)]),  # listed: the host waits its Retry-After
    (503, None, [("example.com", 8.0)]),  # listed, no Retry-After: four intervals
    (429, 30.0, []),  # retried, but not listed here
])
def test_only_the_pushback_codes_pause_the_host(status: int, retry_after: float | None,
                                                penalties: list[tuple[str, float]]) -> None:
    gate = RecordingGate()
    polite = PoliteFetcher(fetcher=AnsweringWith(status, retry_after), gate=gate, robots=None,  # type: ignore[arg-type]
                           max_defer=60, wait_in_place=2, previous=lambda url: None,
                           pushback_http_codes=frozenset({425, 503}))
    with pytest.raises(ServerError):
        polite.fetch("https://example.com/a", "b")
    assert gate.penalties == penalties
