"""Crawling as a good citizen, through a polite fleet: three fetch workers and one extract+index worker.

Each test gets hosts of its own (a LocalSite on a fresh port is a fresh host), so limits do not leak between
tests. The fleet runs at 4 requests per second per host, one at a time, obeying robots.txt.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from config.settings import Settings
from readq import Client
from readq._services import wait_for
from tests.support.httpserver import LocalSite
from tests.support.services import WorkerProcess, drop_indices
from tests.support.waiting import wait_finished, wait_status_records

INTERVAL = 0.25  # s between request starts to one host: 4 requests per second


@pytest.fixture(scope="module")
def fleet(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    polite = settings.model_copy(update={
        "index_prefix": f"{settings.index_prefix}-crawl", "host_requests_per_second": 1 / INTERVAL,
        "host_max_concurrency": 1, "obey_robots": True, "robots_retry_after": 1, "max_retries": 1,
        "skip_duplicates": True,
    })
    logs = tmp_path_factory.mktemp("fleet")
    with Client(polite) as client:
        client.install_templates()
        processes = [WorkerProcess(polite, logs / f"worker{i}.log", ["--concurrency", "4", "--processes", "1"])
                     for i in range(3)]
        for process in processes:
            process.start()
        try:
            wait_for(lambda: len(client.workers(timeout=0.5)) >= 3, "three workers", 120)
            yield client
        finally:
            for process in processes:
                process.stop()
            drop_indices(client)


@pytest.fixture
def hosts() -> Iterator[tuple[LocalSite, LocalSite]]:
    with LocalSite() as first, LocalSite() as second:
        yield first, second


def page_starts(site: LocalSite) -> list[float]:
    return sorted(t for t, path in site.log if path != "/robots.txt")


def assert_spaced(starts: list[float], interval: float) -> None:
    """No burst: k+1 consecutive starts span at least k intervals, less half a slot of scheduling slack."""
    for k in range(1, 5):
        for i in range(len(starts) - k):
            assert starts[i + k] - starts[i] >= (k - 0.5) * interval - 0.02, (k, i, starts)


def new_batch() -> str:
    return f"c-{uuid.uuid4().hex[:8]}"


def test_three_workers_share_one_hosts_rate_and_concurrency_limit(
    fleet: Client, hosts: tuple[LocalSite, LocalSite]
) -> None:
    busy, other = hosts
    urls = [busy.url(f"/gen/busy-{i}-{busy.base_url}") for i in range(10)]
    urls += [other.url(f"/gen/other-{i}-{other.base_url}") for i in range(10)]
    batch = new_batch()
    fleet.enqueue(urls, batch)

    progress = wait_finished(fleet, batch, timeout=120)

    assert progress.done == 20
    starts = page_starts(busy)
    assert len(starts) == 10
    assert_spaced(starts, INTERVAL)
    assert starts[-1] - starts[0] >= 9 * INTERVAL - 0.1
    assert busy.max_in_flight == 1
    # The other host did not wait for the busy one: its pages were fetched meanwhile.
    assert page_starts(other)[0] < starts[-1]


def test_robots_txt_disallow_allow_and_crawl_delay(fleet: Client, hosts: tuple[LocalSite, LocalSite]) -> None:
    site, _ = hosts
    site.robots = (200, "User-agent: *\nDisallow: /\n\nUser-agent: readq\nDisallow: /private/\n"
                        "Allow: /private/open-\nCrawl-delay: 0.5\n")
    allowed = [site.url(f"/private/open-{i}-{site.base_url}") for i in range(4)]
    disallowed = [site.url(f"/private/secret-{i}") for i in range(2)]
    batch = new_batch()
    fleet.enqueue(allowed + disallowed, batch)

    progress = wait_finished(fleet, batch, timeout=60)

    assert (progress.indexed, progress.skipped) == (4, 2)
    records = wait_status_records(fleet, disallowed)
    assert {r["reason"] for r in records.values()} == {"robots"}
    assert not [path for _, path in site.log if path.startswith("/private/secret")]
    assert site.hits["/robots.txt"] == 1  # fetched once for the whole fleet
    assert_spaced(page_starts(site), 0.5)  # Crawl-delay is slower than the configured rate, so it wins


def test_robots_txt_5xx_means_try_later_and_4xx_means_allowed(
    fleet: Client, hosts: tuple[LocalSite, LocalSite]
) -> None:
    unavailable, forbidden = hosts
    unavailable.robots = (503, "")
    forbidden.robots = (403, "")
    blocked, allowed = unavailable.url("/gen/robots-503"), forbidden.url(f"/gen/robots-403-{forbidden.base_url}")
    batch = new_batch()
    fleet.enqueue([blocked, allowed], batch)

    progress = wait_finished(fleet, batch, timeout=60)

    assert (progress.indexed, progress.failed) == (1, 1)
    record = wait_status_records(fleet, [blocked])[blocked]
    assert (record["reason"], record["attempts"]) == ("robots_unavailable", 2)
    assert unavailable.hits["/robots.txt"] == 2  # asked again after the pause, not on every attempt
    assert not page_starts(unavailable)


def test_429_with_retry_after_pauses_the_whole_host(fleet: Client, hosts: tuple[LocalSite, LocalSite]) -> None:
    site, _ = hosts
    limited = site.url("/status/429?retry_after=2")
    batch = new_batch()
    fleet.enqueue([limited], batch)
    wait_for(lambda: site.hits["/status/429?retry_after=2"] >= 1, "the first 429")
    fleet.enqueue([site.url(f"/gen/after-429-{site.base_url}")], batch)

    wait_finished(fleet, batch, timeout=60)

    (first_429, *_), later = [t for t, p in site.log if "429" in p], [t for t, p in site.log if "after-429" in p]
    assert later[0] - first_429 >= 1.9  # the host was paused as asked, for every URL of it
    assert site.hits["/status/429?retry_after=2"] == 2  # retried once (max_retries=1), after the pause


def test_a_duplicate_of_an_indexed_page_is_skipped_when_configured(
    fleet: Client, hosts: tuple[LocalSite, LocalSite]
) -> None:
    site, _ = hosts
    original, copy = site.url("/pages/news-pl.html?copy=0"), site.url("/pages/news-pl.html?copy=1")
    first, second = new_batch(), new_batch()
    fleet.enqueue([original], first)
    wait_finished(fleet, first)
    fleet.enqueue([copy], second)

    progress = wait_finished(fleet, second)

    assert progress.skipped == 1
    assert wait_status_records(fleet, [copy])[copy]["reason"] == "duplicate"
    assert fleet.get(copy) is None
