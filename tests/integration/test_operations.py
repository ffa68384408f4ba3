"""What an on-call engineer uses: metrics scraped from real workers, live progress, logs, and `readq doctor`."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from config.celery import Queue
from config.settings import Settings
from readq import Client
from readq._follow import follow_batch, watch_status
from readq._launcher import flower_command
from readq._services import free_port, wait_for
from tests.integration.test_cli import run
from tests.support.httpserver import LocalSite
from tests.support.services import WorkerProcess, drop_indices, hermetic_cwd, settings_env
from tests.support.waiting import wait_finished

FLOWER_EVENTS_ENABLE_INTERVAL = 6  # s: Flower's --events_enable_interval (5 s), and a margin


def consecutive_free_ports(count: int) -> int:
    while True:
        base = free_port()
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue


@pytest.fixture(scope="module")
def metered(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    metered_settings = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-metrics",
                                                   "metrics_port": consecutive_free_ports(1),
                                                   "log_format": "json"})
    logs = tmp_path_factory.mktemp("metered")
    with Client(metered_settings) as client:
        client.install_templates()
        process = WorkerProcess(metered_settings, logs / "worker.log").start()
        try:
            wait_for(lambda: len(client.workers(timeout=0.5)) >= 1, "metered worker", 90)
            yield client
        finally:
            process.stop()
            drop_indices(client)


def scrape(port: int) -> dict[str, float]:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_the_worker_serves_metrics_of_a_small_run(metered: Client, site: LocalSite) -> None:
    batch = f"m-{uuid.uuid4().hex[:8]}"
    urls = [site.url(f"/gen/metrics-{i}-{batch}") for i in range(3)] + [site.url(f"/status/404?m={batch}")]
    metered.enqueue(urls, batch)
    wait_finished(metered, batch)
    base = metered.settings.metrics_port

    metrics = wait_for(lambda: scrape(base), f"metrics on {base}")

    assert metrics['readq_pages_fetched_total{outcome="ok"}'] == 3
    assert metrics["readq_fetch_seconds_count"] == 3
    assert metrics["readq_fetch_bytes_sum"] > 3 * 1000
    assert metrics['readq_pages_failed_total{reason="http_status",stage="fetch"}'] == 1
    assert metrics["readq_extract_seconds_count"] == 3  # reported by the extraction processes with each page
    assert metrics["readq_pages_indexed_total"] == 3
    assert metrics["readq_bulk_documents_count"] >= 1 and metrics["readq_bulk_documents_sum"] == 3
    assert wait_for(lambda: 'readq_queue_depth{queue="fetch"}' in scrape(base), "queue depth gauge", 15)


def test_worker_logs_are_json_lines_with_one_outcome_per_url(metered: Client, site: LocalSite,
                                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    batch = f"l-{uuid.uuid4().hex[:8]}"
    url = site.url(f"/gen/logged-{batch}")
    metered.enqueue([url], batch)
    wait_finished(metered, batch)
    log_file = next(tmp_path_factory.getbasetemp().glob("metered*/worker.log"))

    records = [json.loads(line) for line in log_file.read_text().splitlines() if line.startswith("{")]

    outcomes = [r for r in records if r.get("url") == url and r.get("name") == "readq.outcome"]
    by_state = {r["state"]: r for r in outcomes}
    assert set(by_state) >= {"fetched", "extracted", "indexed"}
    assert all(r["batch"] == batch and r["stage"] for r in outcomes)
    assert by_state["fetched"]["fetch_ms"] >= 0 and by_state["fetched"]["http_status"] == 200
    assert by_state["extracted"]["stage"] == "extract" and by_state["extracted"]["extract_ms"] >= 0
    assert by_state["extracted"]["chars"] > 0
    assert not any("<html" in line.lower() for line in log_file.read_text().splitlines())


def test_progress_is_a_bar_on_a_terminal_and_lines_when_piped(workers: Client, site: LocalSite) -> None:
    batch = f"p-{uuid.uuid4().hex[:8]}"
    workers.enqueue([site.url(f"/gen/progress-{i}-{batch}") for i in range(2)], batch)
    plain, terminal = io.StringIO(), io.StringIO()

    follow_batch(workers, batch, out=plain, terminal=False)
    follow_batch(workers, batch, out=terminal, terminal=True)

    assert re.search(rf"batch {batch}: 2/2 done, [\d.?]+/s, ETA \S+ \(indexed 2,", plain.getvalue())
    assert "\x1b[" in terminal.getvalue() and "2/2" in terminal.getvalue() and "━" in terminal.getvalue()


def test_status_watch_in_all_three_modes(workers: Client) -> None:
    outputs = {mode: io.StringIO() for mode in ("plain", "json", "terminal")}
    watch_status(workers, None, interval=0.2, as_json=False, out=outputs["plain"], terminal=False, ticks=2)
    watch_status(workers, None, interval=0.2, as_json=True, out=outputs["json"], ticks=2)
    watch_status(workers, None, interval=0.2, as_json=False, out=outputs["terminal"], terminal=True, ticks=1)

    plain_lines = outputs["plain"].getvalue().splitlines()
    assert len(plain_lines) == 2 and all("queues fetch=" in line and "workers=" in line for line in plain_lines)
    reports = [json.loads(line) for line in outputs["json"].getvalue().splitlines()]
    assert len(reports) == 2 and {"queues", "workers", "batches", "recent_failures", "at"} <= set(reports[0])
    assert "readq status" in outputs["terminal"].getvalue() and "\x1b[" in outputs["terminal"].getvalue()


def test_doctor_passes_with_workers_and_names_the_fix_when_a_part_is_missing(workers: Client) -> None:
    healthy = run(workers, "doctor", "--json")
    broken = run(workers, "doctor", READQ_ES_URL="http://127.0.0.1:1",
                 READQ_INDEX_PREFIX=f"{workers.settings.index_prefix}-nothing")

    assert healthy.returncode == 0, healthy.stdout
    checks = {c["name"]: c for c in json.loads(healthy.stdout)}
    assert {checks[f"workers {q}"]["level"] for q in ("fetch", "index")} == {"ok"}
    assert checks[f"alias {workers.settings.pages_alias}"]["level"] == "ok"
    assert broken.returncode == 1
    assert "FAIL  elasticsearch: http://127.0.0.1:1" in broken.stdout and "fix: start Elasticsearch" in broken.stdout


def test_flower_sees_every_stage_s_tasks_though_workers_send_no_events_by_default(
    workers: Client, site: LocalSite, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert not workers.settings.task_events
    port = free_port()
    env = {**os.environ, **settings_env(workers.settings), "FLOWER_UNAUTHENTICATED_API": "true"}
    log = (tmp_path_factory.mktemp("flower") / "flower.log").open("w")
    flower = subprocess.Popen(flower_command(workers.settings.model_copy(update={"flower_port": port})), env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=hermetic_cwd())
    try:
        api = f"http://127.0.0.1:{port}/api"
        wait_for(lambda: requests.get(f"{api}/workers", timeout=5).ok, "Flower", timeout=60)
        time.sleep(FLOWER_EVENTS_ENABLE_INTERVAL)  # Flower asks the workers for events every 5 s
        url = site.url(f"/pages/news-de.html?flower={uuid.uuid4().hex}")
        missing = site.url(f"/no-such-page/{uuid.uuid4().hex}")
        batch = workers.enqueue([url, missing], f"flower-{uuid.uuid4().hex[:6]}").batch
        progress = wait_finished(workers, batch)
        assert (progress.indexed, progress.failed) == (1, 1)

        def seen_names() -> set[str]:
            tasks = requests.get(f"{api}/tasks", timeout=5).json().values()
            names = {t["name"] for t in tasks if url in (t.get("args") or "") and t.get("state") == "SUCCESS"}
            return names

        # One message carries a page from the queue to the index.
        assert wait_for(seen_names, "Flower's task list", timeout=30) == {Queue.FETCH.task}

        def missing_states() -> list[str]:
            tasks = requests.get(f"{api}/tasks", timeout=5).json().values()
            return [t.get("state") for t in tasks if missing in (t.get("args") or "")]

        # A 404 is an expected outcome, recorded in readq's status: a task that succeeded, not a FAILURE.
        assert wait_for(missing_states, "the 404's task in Flower", timeout=30) == ["SUCCESS"]
    finally:
        os.killpg(flower.pid, signal.SIGTERM)
        flower.wait(timeout=30)
        log.close()
