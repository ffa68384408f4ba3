"""robots.txt against a local server and real Redis: rules read once for the fleet, a 5xx remembered as "try
later", a bounded table of origins per process, and the fetch lock always given back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from tests.support.httpserver import LocalSite
from tests.unit.conftest import RedisNamespace
from tests.unit.fetching.test_fetcher import make_fetcher
from workers.errors import BlockedAddress, RobotsDisallowed, RobotsUnavailable
from workers.fetching import robots
from workers.fetching.robots import ALLOW_ALL, RobotsPending, RobotsPolicy

RULES = "User-agent: readq\nDisallow: /private\nCrawl-delay: 2\n\nUser-agent: *\nDisallow: /\n"


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as test_site:
        yield test_site


def make_policy(ns: RedisNamespace, fetcher: object | None = None, **overrides: object) -> RobotsPolicy:
    options: dict[str, object] = {"user_agent": "readq/1.0 (+https://readq.test)", "ttl": 3600, "retry_after": 120}
    options.update(overrides)
    return RobotsPolicy(client=ns.client, prefix=ns.prefix, fetcher=fetcher or make_fetcher(),  # type: ignore[arg-type]
                        **options)  # type: ignore[arg-type]


def test_rules_for_readq_allow_disallow_and_set_the_crawl_delay(redis_ns: RedisNamespace, site: LocalSite) -> None:
    site.robots = (200, RULES)
    policy = make_policy(redis_ns)

    assert policy.check(site.url("/pages/news-de.html")) == 2.0
    with pytest.raises(RobotsDisallowed, match=r"disallows .*/private/a for readq"):
        policy.check(site.url("/private/a"))
    assert make_policy(redis_ns).check(site.url("/gen/x")) == 2.0  # another worker reads the fleet's copy
    assert site.hits["/robots.txt"] == 1


def test_a_group_for_other_agents_does_not_apply(redis_ns: RedisNamespace, site: LocalSite) -> None:
    site.robots = (200, "User-agent: otherbot\nDisallow: /\n")
    assert make_policy(redis_ns).check(site.url("/pages/news-de.html")) is None
    assert site.hits["/robots.txt"] == 1


def test_a_missing_robots_txt_allows_everything_for_the_ttl(redis_ns: RedisNamespace, site: LocalSite) -> None:
    site.robots = (404, "")
    assert make_policy(redis_ns, ttl=3600).check(site.url("/private/a")) is None
    key = f"{redis_ns.prefix}robots:{site.base_url}"
    assert redis_ns.client.get(key) == ALLOW_ALL
    assert 3500 < redis_ns.client.ttl(key) <= 3600


def test_a_5xx_is_remembered_as_unavailable_for_retry_after(redis_ns: RedisNamespace, site: LocalSite) -> None:
    site.robots = (503, "down")
    policy = make_policy(redis_ns, retry_after=120)
    url = site.url("/pages/news-de.html")

    for _ in range(2):
        with pytest.raises(RobotsUnavailable) as unavailable:
            policy.check(url)
        assert unavailable.value.retry_after == 120
    assert site.hits["/robots.txt"] == 1  # the fleet does not hammer a failing host
    until = policy.unavailable_until(url)
    assert until is not None and time.time() + 110 < until <= time.time() + 120
    assert policy.unavailable_until(site.url("/")) == pytest.approx(until, abs=1)  # any URL of the origin
    assert make_policy(redis_ns).unavailable_until("http://other.example/") is None


def test_a_host_readq_must_not_reach_is_remembered_as_blocked(redis_ns: RedisNamespace, site: LocalSite) -> None:
    policy = make_policy(redis_ns, make_fetcher(allow_private_networks=False))
    for _ in range(2):
        with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1"):
            policy.check(site.url("/pages/news-de.html"))
    assert site.hits["/robots.txt"] == 0
    assert redis_ns.client.ttl(f"{redis_ns.prefix}robots:{site.base_url}") > 0


def test_each_process_keeps_a_bounded_table_of_origins(redis_ns: RedisNamespace,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(robots, "LOCAL_ORIGINS", 2)
    policy = make_policy(redis_ns, fetcher=SimpleNamespace(deadline=1.0))  # never asked: Redis holds every answer
    origins = [f"http://{name}.example" for name in ("a", "b", "c")]
    for origin in origins:
        redis_ns.client.set(f"{redis_ns.prefix}robots:{origin}", ALLOW_ALL)
        assert policy.check(f"{origin}/page") is None

    assert sorted(policy._local) == origins[1:]  # the oldest made room
    redis_ns.client.delete(*(f"{redis_ns.prefix}robots:{origin}" for origin in origins))
    assert policy.check("http://c.example/page") is None  # from the process's table: no Redis round trip
    assert policy._local.ttl == robots.LOCAL_SECONDS
    assert make_policy(redis_ns, retry_after=5)._local.ttl == 5  # never longer than a "try later"


class Exploding:
    deadline = 1.0

    def fetch(self, url: str, **_: object) -> None:
        raise RuntimeError(f"fetching {url} broke")


def test_the_fetch_claim_is_replaced_by_the_rules_or_given_back_when_the_fetch_breaks(
        redis_ns: RedisNamespace, site: LocalSite) -> None:
    site.robots = (200, RULES)
    make_policy(redis_ns).check(site.url("/pages/news-de.html"))
    key = f"{redis_ns.prefix}robots:{site.base_url}"
    assert (redis_ns.client.get(key) or b"").startswith(robots.RULES)
    assert 3500 < redis_ns.client.ttl(key) <= 3600  # the claim's short expiry replaced by the cache's

    with pytest.raises(RuntimeError, match="broke"):
        make_policy(redis_ns, fetcher=Exploding()).check("http://broken.example/page")
    assert not redis_ns.client.exists(f"{redis_ns.prefix}robots:http://broken.example")
    with pytest.raises(RuntimeError, match="broke"):  # the next worker fetches at once, not RobotsPending
        make_policy(redis_ns, fetcher=Exploding()).check("http://broken.example/page")


def test_a_worker_waits_for_another_s_fetch_then_says_pending(redis_ns: RedisNamespace,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    key = f"{redis_ns.prefix}robots:http://busy.example"
    redis_ns.client.set(key, robots.PENDING, px=60_000)  # another worker claimed the fetch
    polls: list[float] = []

    def other_worker_stores_on_the_third_poll(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 3:
            redis_ns.client.set(key, ALLOW_ALL)

    monkeypatch.setattr(robots, "time", SimpleNamespace(sleep=other_worker_stores_on_the_third_poll, time=time.time))
    assert make_policy(redis_ns, fetcher=Exploding()).check("http://busy.example/page") is None
    assert len(polls) == 3

    polls.clear()
    slow = f"{redis_ns.prefix}robots:http://slow.example"
    redis_ns.client.set(slow, robots.PENDING, px=60_000)
    with pytest.raises(RobotsPending, match=r"slow\.example"):
        make_policy(redis_ns, fetcher=Exploding()).check("http://slow.example/page")
    assert polls == [robots.LOCK_POLL_SECONDS] * robots.LOCK_POLLS
    assert redis_ns.client.get(slow) == robots.PENDING  # the claim is the other worker's: left alone
    redis_ns.client.delete(key, slow)


def test_while_a_worker_fetches_its_claim_expires_by_itself(redis_ns: RedisNamespace, site: LocalSite) -> None:
    site.robots = (200, RULES)
    fetcher = make_fetcher()
    key = f"{redis_ns.prefix}robots:{site.base_url}"
    seen_during_fetch: list[tuple[bytes | None, int]] = []

    class Watching:
        deadline = fetcher.deadline

        def fetch(self, url: str, **options: object) -> object:
            seen_during_fetch.append((redis_ns.client.get(key), redis_ns.client.pttl(key)))
            return fetcher.fetch(url, **options)  # type: ignore[arg-type]

    assert make_policy(redis_ns, Watching()).check(site.url("/gen/x")) == 2.0
    [(claim, left_ms)] = seen_during_fetch
    assert claim == robots.PENDING
    assert 0 < left_ms <= fetcher.deadline * 1000 + 5000  # a worker that dies leaves no claim for ever
