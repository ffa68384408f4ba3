"""The fetch policy around one request: whatever the request's outcome, its host lease is given back."""

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
                           previous=lambda _: taken.append(leases(redis_ns, url)))  # asked while leased

    if error is None:
        assert isinstance(policy.fetch(url, "b")[0], FetchedPage)  # type: ignore[index]
    else:
        with pytest.raises(error):
            policy.fetch(url, "b")

    assert taken == [1]
    assert leases(redis_ns, url) == 0
