"""Nothing lost: faults injected for real into running workers, Elasticsearch and Redis.

Each test runs its own worker (started as `readq worker` starts it) under a prefix of its own, with a short
visibility timeout so that Redis hands back what a dead worker held within seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from readq import Client
from readq._services import NoidaElasticsearch, RedisServer, wait_for
from tests.support.httpserver import LocalSite
from tests.support.services import CeleryWorker, drop_indices, extraction_processes, settings_env
from tests.support.waiting import wait_finished

pytestmark = pytest.mark.faults
VISIBILITY_TIMEOUT = 6  # s: kombu restores unacknowledged messages this old, checking every 10 s


def fault_settings(settings: Settings, **overrides: object) -> Settings:
    return settings.model_copy(update={
        "index_prefix": f"{settings.index_prefix}-f{uuid.uuid4().hex[:6]}", "visibility_timeout": VISIBILITY_TIMEOUT,
        "fetch_concurrency": 8, "extract_concurrency": 2, "sweep_interval": 3, **overrides,
    })


def under_way(client: Client, batch: str, counter: str, at_least: int) -> None:
    """Wait until the batch's ``counter`` reaches ``at_least``, and check the batch is not finished yet."""
    progress = wait_for(lambda: (p := client.progress(batch)) is not None and getattr(p, counter) >= at_least and p,
                        f"{counter} >= {at_least} in batch {batch}")
    assert not progress.finished, "the fault must hit the batch in the middle"


@contextlib.contextmanager
def fleet(settings: Settings, logs: Path, *, drop: bool = True) -> Iterator[tuple[Client, list[CeleryWorker]]]:
    """A running worker; a test may kill it and append its replacement to the list, which is stopped at the end."""
    with Client(settings) as client:
        client.install_templates()
        workers = [CeleryWorker(settings, logs / "worker.log").start()]
        try:
            wait_for(lambda: len(client.workers(timeout=0.5)) >= 1, "the worker", 90)
            yield client, workers
        finally:
            for worker in workers:
                worker.stop()
            if drop:
                with contextlib.suppress(Exception):
                    drop_indices(client)


def assert_all_indexed_once(client: Client, batch: str, urls: list[str], timeout: float = 180) -> None:
    progress = wait_finished(client, batch, timeout=timeout)
    assert (progress.indexed, progress.total) == (len(urls), len(urls)), progress
    count = client.runtime.es.count(index=client.settings.pages_alias, query={"term": {"batch": batch}})["count"]
    assert count == len(set(urls))  # one document per URL: ids are the URL's hash, so no duplicate can exist
    wait_for(lambda: not any(client.queue_depths().values()), "queues and in-flight tasks to drain", 60)


def test_a_worker_killed_mid_batch_loses_nothing(settings: Settings, site: LocalSite, tmp_path: Path) -> None:
    with fleet(fault_settings(settings), tmp_path) as (client, workers):
        batch = f"kill-worker-{uuid.uuid4().hex[:6]}"
        urls = [site.url(f"/slow/news-de.html?delay=0.2&u={batch}-{i}") for i in range(200)]  # pages under way
        client.enqueue(urls, batch)
        under_way(client, batch, "indexed", 20)

        workers[0].kill()
        workers.append(CeleryWorker(client.settings, tmp_path / "worker-2.log").start())

        assert_all_indexed_once(client, batch, urls)


def test_an_extraction_process_killed_mid_batch_loses_nothing(settings: Settings, site: LocalSite,
                                                              tmp_path: Path) -> None:
    with fleet(fault_settings(settings), tmp_path) as (client, workers):
        batch = f"kill-extract-{uuid.uuid4().hex[:6]}"
        urls = [site.url(f"/pages/news-de.html?u={batch}-{i}") for i in range(200)]  # extraction the bottleneck
        client.enqueue(urls, batch)
        under_way(client, batch, "indexed", 20)
        assert workers[0].process is not None
        victims = wait_for(lambda: extraction_processes(workers[0].process.pid), "extraction processes")

        os.kill(victims[0], signal.SIGKILL)

        assert_all_indexed_once(client, batch, urls)
        assert workers[0].process.poll() is None  # the worker lived on, and replaced the process
        assert victims[0] not in extraction_processes(workers[0].process.pid)


def test_a_lost_task_message_is_swept_back(settings: Settings, site: LocalSite, tmp_path: Path) -> None:
    """A worker killed between taking a message off its queue and recording it as unacknowledged loses it (a
    window in kombu's Redis transport); the sweeper finds the URL stuck and queues it again."""
    lost = fault_settings(settings)
    batch = f"lost-{uuid.uuid4().hex[:6]}"
    urls = [site.url(f"/gen/{batch}-{i}") for i in range(5)]
    with Client(lost) as client:
        client.install_templates()
        client.enqueue(urls, batch)
        client.runtime.redis.delete(f"{lost.redis_prefix}fetch")  # every message gone; the URLs say "queued"
        assert client.progress(batch).queued == len(urls)
    with fleet(lost, tmp_path) as (client, _):
        assert_all_indexed_once(client, batch, urls, timeout=60)


def test_an_elasticsearch_outage_is_waited_out(settings: Settings, es_server: NoidaElasticsearch | None,
                                               tmp_path: Path) -> None:
    if es_server is None:
        pytest.skip("needs the noida-db stand-in: a real cluster is not ours to stop")
    # Index retries back off up to half the visibility timeout: at 40 s their 30 retries span minutes, as
    # production's hour does; nothing here needs a dead worker's messages back quickly.
    with LocalSite() as slow_site, fleet(fault_settings(settings, visibility_timeout=40), tmp_path) as (client, _):
        batch = f"es-down-{uuid.uuid4().hex[:6]}"
        urls = [slow_site.url(f"/slow/news-de.html?delay=0.5&u={batch}-{i}") for i in range(80)]
        client.enqueue(urls, batch)
        under_way(client, batch, "indexed", 5)

        es_server.stop()
        down_since = time.monotonic()
        try:
            outage = wait_for(lambda: client.status(batch)["elasticsearch"] != "ok" and client.status(batch),
                              "status to show the outage")
            assert outage["elasticsearch"].startswith("unreachable")
            time.sleep(max(0.0, 30 - (time.monotonic() - down_since)))
        finally:
            es_server.start()

        assert_all_indexed_once(client, batch, urls, timeout=300)


def test_a_redis_restart_loses_no_queued_url(settings: Settings, site: LocalSite, tmp_path: Path) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    server = RedisServer(tmp_path, password=password, appendfsync="always").start()
    restarted = fault_settings(settings, redis_url=server.url)
    try:
        with fleet(restarted, tmp_path) as (client, _):
            batch = f"redis-restart-{uuid.uuid4().hex[:6]}"
            first = [site.url(f"/slow/news-pl.html?delay=0.2&u={batch}-{i}") for i in range(60)]
            client.enqueue(first, batch)
            under_way(client, batch, "done", 5)

            server.stop()
            time.sleep(3)
            server.start()
            second = [site.url(f"/gen/{batch}-after-{i}") for i in range(30)]
            client.enqueue(second, batch)  # the producer's connection comes back by itself

            assert_all_indexed_once(client, batch, first + second, timeout=240)
        logs = "".join(path.read_text(errors="replace") for path in tmp_path.glob("*.log"))
        assert password not in logs  # the broker URL is logged with its password masked
    finally:
        server.stop()


def test_a_page_that_makes_extraction_balloon_fails_alone(settings: Settings, site: LocalSite,
                                                          tmp_path: Path) -> None:
    balloon_settings = fault_settings(settings, extract_memory_limit_mb=300, max_retries=1,
                                      max_body_bytes=20 * 1024 * 1024)
    with fleet(balloon_settings, tmp_path) as (client, workers):
        batch = f"balloon-{uuid.uuid4().hex[:6]}"
        balloon = site.url(f"/balloon?divs=300000&b={batch}")
        urls = [site.url(f"/gen/{batch}-{i}") for i in range(10)]
        client.enqueue([balloon, *urls], batch)

        progress = wait_finished(client, batch, timeout=240)

        assert (progress.indexed, progress.failed) == (10, 1)
        status = wait_for(lambda: (r := client.url_status(balloon)) and r["state"] == "failed" and r, "its record")
        assert status["reason"] == "memory_limit", status
        assert workers[0].process is not None and workers[0].process.poll() is None  # the worker lived on
        assert client.workers()


def test_sigterm_mid_batch_finishes_or_returns_the_work(settings: Settings, site: LocalSite, tmp_path: Path) -> None:
    fault = fault_settings(settings)
    batch = f"sigterm-{uuid.uuid4().hex[:6]}"
    urls = [site.url(f"/slow/blog-en.html?delay=0.3&u={batch}-{i}") for i in range(60)]
    with fleet(fault, tmp_path, drop=False) as (client, workers):
        client.enqueue(urls, batch)
        under_way(client, batch, "done", 5)
        process = workers[0].process
        assert process is not None
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(timeout=90) == 0  # a warm shutdown, not a crash
        # Its acks (sent in groups) all reached Redis, what it had not started went back to the queue, and no
        # control reply was recorded as unacknowledged: nothing comes back after the visibility timeout.
        assert client.runtime.redis.hlen(f"{fault.redis_prefix}unacked") == 0
        assert client.queue_depths()["fetch"] > 0
    (tmp_path / "after").mkdir()
    with fleet(fault, tmp_path / "after") as (client, _):
        assert_all_indexed_once(client, batch, urls)


def test_settings_env_keeps_the_broker_password_out_of_argv(settings: Settings) -> None:
    """Secrets travel to worker processes in their environment, never on a command line `ps` shows."""
    secret = settings.model_copy(update={"redis_url": "redis://:topsecret@127.0.0.1:6379/0"})
    from readq._launcher import worker_command

    assert not any("topsecret" in part for part in worker_command(secret))
    assert settings_env(secret)["READQ_REDIS_URL"].endswith("topsecret@127.0.0.1:6379/0")
