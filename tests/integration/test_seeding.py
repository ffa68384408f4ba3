"""`readq enqueue --sitemap/--feed` against hostile seeds: bounded, polite, behind the address guard."""

from __future__ import annotations

import itertools
import json
import uuid

from readq import Client
from readq._exit_codes import PARTIAL
from tests.integration.test_cli import run
from tests.support.httpserver import LocalSite


def _seed_requests(site: LocalSite, since: int) -> list[tuple[float, str]]:
    return [(at, path) for at, path in site.log[since:] if path.startswith("/fanout/")]


def test_a_sitemap_fan_out_stops_at_its_limit_with_a_reason(client: Client, site: LocalSite) -> None:
    """Three levels of 5 children (156 sitemaps) with READQ_SEED_MAX_SITEMAPS=10: 10 fetched, the rest refused."""
    since = len(site.log)
    batch = f"seed-{uuid.uuid4().hex[:8]}"
    result = run(client, "enqueue", "--sitemap", site.url("/fanout/r.xml?width=5&depth=3&urls=3"), "--batch", batch,
                 "--json", READQ_SEED_MAX_SITEMAPS="10")

    assert result.returncode == PARTIAL, result.stderr
    report = json.loads(result.stdout)
    assert report["refused_by_reason"] == {"seed_too_large": 1}
    assert "more than 10 sitemaps (READQ_SEED_MAX_SITEMAPS)" in report["refusals"][0]["message"]
    assert len(_seed_requests(site, since)) == 10
    assert report["accepted"] == 0  # breadth first: the first 10 sitemaps are indexes


def test_seed_urls_past_the_url_limit_are_refused_and_the_first_ones_queued(client: Client, site: LocalSite) -> None:
    batch = f"seed-{uuid.uuid4().hex[:8]}"
    result = run(client, "enqueue", "--sitemap", site.url(f"/fanout/r.xml?width=2&depth=1&urls=30&b={batch}"),
                 "--batch", batch, "--json", READQ_SEED_MAX_URLS="45")

    report = json.loads(result.stdout)
    assert (report["accepted"], report["refused_by_reason"]) == (45, {"seed_too_large": 1})


def test_seed_fetches_keep_the_hosts_request_rate(client: Client, site: LocalSite) -> None:
    since = len(site.log)
    result = run(client, "enqueue", "--sitemap", site.url(f"/fanout/r.xml?width=2&depth=2&urls=1&r={uuid.uuid4()}"),
                 "--json", READQ_HOST_REQUESTS_PER_SECOND="4")

    assert json.loads(result.stdout)["accepted"] == 4, result.stderr
    times = [at for at, _ in _seed_requests(site, since)]
    assert len(times) == 7
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.2  # 0.25 s apart, less clock jitter


def test_a_seed_on_a_private_address_is_refused_without_a_request(client: Client, site: LocalSite) -> None:
    since = len(site.log)
    result = run(client, "enqueue", "--sitemap", site.url("/fanout/r.xml?width=1&depth=0"), "--feed",
                 f"http://169.254.169.254:{site.server_address[1]}/feed", "--json",
                 READQ_ALLOW_PRIVATE_NETWORKS="false")

    report = json.loads(result.stdout)
    assert report["refused_by_reason"] == {"seed_unreadable": 2}
    assert all("may not reach" in refusal["message"] for refusal in report["refusals"])
    assert _seed_requests(site, since) == []
