"""With READQ_ALLOW_PRIVATE_NETWORKS off (the default), a fetch worker refuses local addresses."""

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


@pytest.fixture(scope="module")
def guarded(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    guarded_settings = settings.model_copy(update={"allow_private_networks": False,
                                                   "index_prefix": f"{settings.index_prefix}-guarded"})
    with Client(guarded_settings) as client:
        client.install_templates()
        process = WorkerProcess(guarded_settings, tmp_path_factory.mktemp("guarded") / "worker.log",
                                ["--processes", "1"]).start()
        try:
            wait_for(lambda: client.workers(timeout=0.5), "guarded worker", 90)
            yield client
        finally:
            process.stop()
            drop_indices(client)


def test_loopback_in_any_spelling_is_skipped_as_a_blocked_address(guarded: Client, site: LocalSite) -> None:
    port = site.server_address[1]
    urls = [site.url("/pages/news-de.html"), f"http://2130706433:{port}/pages/news-de.html",
            f"http://0177.0.0.1:{port}/pages/news-de.html", f"http://localhost:{port}/pages/news-de.html",
            f"http://[::ffff:127.0.0.1]:{port}/pages/news-de.html"]
    hits_before = sum(site.hits.values())
    batch = f"t-{uuid.uuid4().hex[:8]}"
    receipt = guarded.enqueue(urls, batch)

    progress = wait_finished(guarded, batch)

    assert receipt.accepted == len(urls)
    assert (progress.skipped, progress.indexed, progress.failed) == (len(urls), 0, 0)
    records = wait_status_records(guarded, urls)
    assert {r["reason"] for r in records.values()} == {"blocked_address"}
    assert sum(site.hits.values()) == hits_before  # not one request reached the server


def test_all_urls_of_a_blocked_host_end_at_once(guarded: Client, site: LocalSite) -> None:
    """The host's robots.txt fetch is refused by the guard: that decision holds for every URL of the host (the
    robots.txt lock used to stay taken, and the other URLs ended one a minute)."""
    batch = f"t-{uuid.uuid4().hex[:8]}"
    urls = [site.url(f"/pages/news-de.html?blocked={batch}-{i}") for i in range(20)]
    assert guarded.enqueue(urls, batch).accepted == len(urls)

    progress = wait_finished(guarded, batch, timeout=60)

    assert (progress.skipped, progress.indexed, progress.failed) == (len(urls), 0, 0)
    assert {r["reason"] for r in wait_status_records(guarded, urls).values()} == {"blocked_address"}
    origin = site.url("/").rstrip("/")
    redis = guarded.runtime.redis
    assert (redis.get(f"{guarded.settings.redis_prefix}robots:{origin}") or b"").startswith(b"B")
