"""Seed reading within its limits: sitemaps fetched, URLs listed and time per seed (no network: a fake fetch)."""

from __future__ import annotations

import itertools

import pytest

from readq._seeds import SeedLimitExceeded, SeedLimits, SeedReader

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def fanout(width: int, depth: int, urls: int) -> dict[str, bytes]:
    """A sitemap index tree: every document by URL."""
    documents: dict[str, bytes] = {}

    def build(path: str) -> None:
        url = f"https://example.com/{path}.xml"
        if path.count("-") < depth:
            children = [f"{path}-{i}" for i in range(width)]
            locs = "".join(f"<sitemap><loc>https://example.com/{c}.xml</loc></sitemap>" for c in children)
            documents[url] = f"<sitemapindex {NS}>{locs}</sitemapindex>".encode()
            for child in children:
                build(child)
        else:
            locs = "".join(f"<url><loc>https://example.com/page/{path}-{j}</loc></url>" for j in range(urls))
            documents[url] = f"<urlset {NS}>{locs}</urlset>".encode()

    build("r")
    return documents


class FakeFetch:
    def __init__(self, documents: dict[str, bytes]) -> None:
        self.documents = documents
        self.fetched: list[str] = []

    def __call__(self, url: str, accept: frozenset[str], deadline: float) -> bytes:
        self.fetched.append(url)
        return self.documents[url]


def reader(fetch: FakeFetch, *, sitemaps: int = 100, urls: int = 100_000, seconds: float = 300,
           clock: object = None) -> SeedReader:
    limits = SeedLimits(max_sitemaps=sitemaps, max_urls=urls, max_seconds=seconds)
    if clock is None:
        return SeedReader(fetch, limits, max_body_bytes=1 << 20)
    return SeedReader(fetch, limits, max_body_bytes=1 << 20, clock=clock)  # type: ignore[arg-type]


def test_a_sitemap_tree_within_the_limits_is_read_whole() -> None:
    fetch = FakeFetch(fanout(width=3, depth=2, urls=2))
    urls = list(reader(fetch).sitemap_urls("https://example.com/r.xml"))
    assert len(urls) == 3 * 3 * 2 and len(set(urls)) == 18
    assert len(fetch.fetched) == 1 + 3 + 9


def test_a_wide_sitemap_index_stops_at_the_sitemap_limit() -> None:
    """Three levels of 100 children: 1,010,101 sitemaps unbounded; here 10 fetches, then a refusal."""
    fetch = FakeFetch({})
    fetch.documents = _LazyTree(width=100, depth=3, urls=3)  # type: ignore[assignment]
    read = reader(fetch, sitemaps=10).sitemap_urls("https://example.com/r.xml")
    with pytest.raises(SeedLimitExceeded, match="more than 10 sitemaps") as refused:
        list(read)
    assert refused.value.reason == "seed_too_large"
    assert len(fetch.fetched) == 10


def test_urls_past_the_url_limit_are_refused_after_the_first_ones() -> None:
    fetch = FakeFetch(fanout(width=2, depth=1, urls=30))
    taken: list[str] = []
    with pytest.raises(SeedLimitExceeded, match="more than 40 URLs"):
        taken.extend(reader(fetch, urls=40).sitemap_urls("https://example.com/r.xml"))
    assert len(taken) == 40 and taken[0] == "https://example.com/page/r-0-0"


def test_a_seed_that_takes_too_long_is_cut_at_its_time_limit() -> None:
    fetch = FakeFetch(fanout(width=5, depth=2, urls=1))
    ticks = itertools.count()
    with pytest.raises(SeedLimitExceeded, match=r"more than 3\.5 s"):
        list(reader(fetch, seconds=3.5, clock=lambda: float(next(ticks))).sitemap_urls("https://example.com/r.xml"))
    assert 2 <= len(fetch.fetched) <= 4


class _LazyTree(dict[str, bytes]):
    """The documents of a sitemap tree too large to build, made on demand."""

    def __init__(self, *, width: int, depth: int, urls: int) -> None:
        super().__init__()
        self.width, self.depth, self.urls = width, depth, urls

    def __missing__(self, url: str) -> bytes:
        path = url.rsplit("/", 1)[1].removesuffix(".xml")
        if path.count("-") < self.depth:
            locs = "".join(f"<sitemap><loc>https://example.com/{path}-{i}.xml</loc></sitemap>"
                           for i in range(self.width))
            return f"<sitemapindex {NS}>{locs}</sitemapindex>".encode()
        locs = "".join(f"<url><loc>https://example.com/page/{path}-{j}</loc></url>" for j in range(self.urls))
        return f"<urlset {NS}>{locs}</urlset>".encode()
