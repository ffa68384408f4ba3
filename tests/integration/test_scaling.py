"""Scaling out: two workers, each with its own Redis connections and extraction processes, share the queue and
both do their part."""

from __future__ import annotations

import uuid
from pathlib import Path

from config.celery import Queue
from config.settings import Settings
from readq import Client
from readq._services import wait_for
from tests.support.httpserver import LocalSite
from tests.support.services import WorkerProcess, drop_indices
from tests.support.waiting import wait_finished

PAGES = ("news-de.html", "blog-en.html", "news-pl.html", "news-fr-latin1.html")
URLS = 60


def _task_totals(client: Client, task: str) -> dict[str, int]:
    """How many ``task`` tasks each Celery worker has run, by worker name."""
    stats = client.celery.control.inspect(timeout=2.0).stats() or {}
    return {name: int(worker["total"].get(task, 0)) for name, worker in stats.items() if task in worker["total"]}


def test_two_workers_both_consume_and_their_work_adds_up(settings: Settings, site: LocalSite,
                                                              tmp_path: Path) -> None:
    # A namespace of its own, so that no other test's workers take a share.
    scoped = settings.model_copy(update={"index_prefix": f"readqscale-{uuid.uuid4().hex[:8]}"})
    urls = [site.url(f"/pages/{PAGES[i % len(PAGES)]}?copy={i}") for i in range(URLS)]
    with Client(scoped) as client:
        client.install_templates()
        processes = [WorkerProcess(scoped, tmp_path / f"worker-{i}.log", ["--processes", "1"]).start()
                     for i in range(2)]
        try:
            wait_for(lambda: len(client.workers(timeout=0.5)) >= 2, "two workers", 90)
            receipt = client.enqueue(urls, f"t-{uuid.uuid4().hex[:8]}")
            progress = wait_finished(client, receipt.batch)
            pages = _task_totals(client, Queue.FETCH.task)
        finally:
            for process in processes:
                process.stop()
            drop_indices(client)
            keys = list(client.runtime.redis.scan_iter(match=f"{scoped.redis_prefix}*", count=1000))
            if keys:
                client.runtime.redis.delete(*keys)

    assert receipt.accepted == URLS
    assert (progress.indexed, progress.skipped, progress.failed) == (URLS, 0, 0)
    # Each worker took a share, and the shares add up to the whole batch.
    assert len(pages) == 2 and min(pages.values()) > 0 and sum(pages.values()) >= URLS, pages
