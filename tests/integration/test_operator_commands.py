"""What an operator sees through the `readq` command, as real processes: documents as shown, export and purge,
retries, a URL waiting for its next attempt, wait warnings and Ctrl-C, JSON lines, URL files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from readq import Client, Document
from readq._exit_codes import INTERRUPTED, PARTIAL, SUCCESS, USAGE
from readq._services import wait_for
from tests.integration.test_cli import READQ, run
from tests.support.httpserver import LocalSite
from tests.support.services import settings_env
from tests.support.waiting import wait_finished, wait_status_records
from workers.fetching.robots import UNAVAILABLE
from workers.state.retrylog import GRACE_SECONDS, RetryLog
from workers.urls import url_id


def new_batch() -> str:
    return f"op-{uuid.uuid4().hex[:8]}"


def test_get_shows_the_document_without_internal_fields_and_finds_it_by_canonical_url(
    workers: Client, site: LocalSite
) -> None:
    batch = new_batch()
    url = site.url(f"/pages/news-de.html?op={batch}")
    assert run(workers, "enqueue", url, "--batch", batch, "--wait").returncode == SUCCESS

    as_json = run(workers, "get", url, "--json")
    human = run(workers, "get", url)
    document = json.loads(as_json.stdout)
    by_canonical = run(workers, "get", document["canonical_url"], "--json")

    assert as_json.returncode == SUCCESS
    assert set(document) == {f for f in Document.__dataclass_fields__}
    assert document["url"] == url and document["text"] and document["title"]
    assert "minhash" not in as_json.stdout and "etag" not in document
    assert human.returncode == SUCCESS and f"title: {document['title']}" in human.stdout
    assert "None" not in human.stdout.split("\n\n")[0]  # no "author: None"
    assert document["canonical_url"] != url and "/politik/" in document["canonical_url"]
    assert by_canonical.returncode == SUCCESS
    assert json.loads(by_canonical.stdout)["canonical_url"] == document["canonical_url"]
    assert isinstance(workers.get(url), Document)


def test_export_pages_through_a_batch_and_purge_deletes_it_everywhere(workers: Client, site: LocalSite) -> None:
    batch = new_batch()
    urls = [site.url(f"/gen/export-{i}-{batch}") for i in range(3)]
    failing = site.url(f"/status/404?op={batch}")
    assert run(workers, "enqueue", *urls, failing, "--batch", batch, "--wait").returncode == PARTIAL
    wait_status_records(workers, [*urls, failing])

    exported = run(workers, "export", "--batch", batch)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    none_since = run(workers, "export", "--batch", batch, "--since", later)
    unconfirmed = run(workers, "purge", "--batch", batch)
    purged = run(workers, "purge", "--batch", batch, "--yes", "--json")

    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert exported.returncode == SUCCESS and sorted(d["url"] for d in lines) == sorted(urls)
    assert all("minhash" not in d and d["batch"] == batch for d in lines)
    assert "exported 3 documents" in exported.stderr
    assert none_since.returncode == PARTIAL and none_since.stdout == ""
    assert unconfirmed.returncode == USAGE and "--yes" in unconfirmed.stderr
    assert json.loads(purged.stdout) == {"batch": batch, "documents": 3, "status_records": 4, "urls_forgotten": 4}
    workers.make_searchable()
    assert all(workers.get(url) is None and workers.url_status(url) is None for url in urls)
    assert run(workers, "status", "--batch", batch).returncode == PARTIAL
    assert run(workers, "export", "--batch", batch).returncode == PARTIAL
    assert batch not in json.dumps(workers.status()["recent_failures"])
    again = workers.enqueue([urls[0]], batch)  # forgotten by the seen-set: queued again without --force
    assert again.accepted == 1
    wait_finished(workers, batch)


def test_retry_leaves_permanent_failures_unless_asked(workers: Client, site: LocalSite) -> None:
    batch = new_batch()
    gone = site.url(f"/status/404?op={batch}")
    flaky = site.url(f"/flaky/blog-en.html?fail=3&op={batch}")  # fails its 3 attempts, then would answer
    workers.enqueue([gone, flaky], batch)
    assert wait_finished(workers, batch).failed == 2
    wait_status_records(workers, [gone, flaky])

    unknown = run(workers, "retry", "--batch", batch, "--reason", "no_such_reason")
    first = run(workers, "retry", "--batch", batch, "--json")
    assert wait_finished(workers, batch).indexed == 1
    wait_status_records(workers, [flaky], state="indexed")
    second = run(workers, "retry", "--batch", batch, "--include-permanent", "--json")

    assert unknown.returncode == USAGE and "known:" in unknown.stderr and "timeout" in unknown.stderr
    assert [r["accepted"] for r in json.loads(first.stdout)] == [1]  # the 503s, not the 404
    assert [r["accepted"] for r in json.loads(second.stdout)] == [1]  # now the 404 too
    assert wait_finished(workers, batch).failed == 1


def test_a_url_waiting_for_a_retry_shows_its_error_attempts_and_next_attempt(idle: Client, site: LocalSite) -> None:
    batch = new_batch()
    url = site.url(f"/status/503?op={batch}")
    idle.enqueue([url], batch)
    due = time.time() + 600
    idle.runtime.retries.record(url, url_id(url), batch, stage="fetch", reason="http_status",
                                error="503 Service Unavailable", attempt=2, countdown=600)

    human = run(idle, "get", url)
    as_json = json.loads(run(idle, "get", url, "--json").stdout)
    status = json.loads(run(idle, "status", "--json").stdout)

    assert human.returncode == PARTIAL
    assert "its state: queued" in human.stderr and "attempt 2 failed at the fetch stage" in human.stderr
    assert "503 Service Unavailable" in human.stderr and "next attempt at 20" in human.stderr
    retry = as_json["retry"]
    assert (retry["attempt"], retry["reason"]) == (2, "http_status")
    assert abs(datetime.fromisoformat(retry["next_attempt_at"]).timestamp() - due) < 2
    assert status["retrying"]["count"] == 1 and status["retrying"]["soonest"][0]["url"] == url
    idle.runtime.retries.clear(url_id(url))
    assert "attempt" not in run(idle, "get", url).stderr
    # robots.txt answered 5xx: the whole site waits, as RobotsPolicy remembers it
    idle.runtime.redis.set(f"{idle.settings.redis_prefix}robots:{site.base_url}", UNAVAILABLE, ex=300)
    waiting = run(idle, "get", url)
    assert "the site's robots.txt could not be read, asked again at 20" in waiting.stderr
    assert json.loads(run(idle, "get", url, "--json").stdout)["robots_unavailable_until"]


def test_status_lists_a_failed_url_once_and_gives_iso_times(idle: Client) -> None:
    batch = new_batch()
    idle.enqueue(["https://example.com/a"], batch)
    for attempt in (1, 2):
        idle.runtime.progress.record_failure({"url": "https://example.com/a", "batch": batch, "stage": "fetch",
                                              "at": time.time(), "reason": "timeout", "error": f"try {attempt}",
                                              "attempts": attempt})

    report = json.loads(run(idle, "status", "--json").stdout)
    human = run(idle, "status").stdout

    assert [(f["url"], f["attempts"]) for f in report["recent_failures"]] == [("https://example.com/a", 2)]
    assert human.count("failed https://example.com/a") == 1 and "after 2 attempt(s): try 2" in human
    batch_report = report["batches"][0]
    assert datetime.fromisoformat(batch_report["created"]).tzinfo is not None
    assert datetime.fromisoformat(report["recent_failures"][0]["at"]).tzinfo is not None
    assert "unchanged 0" in human


def test_wait_json_prints_json_lines_with_the_receipt_last(workers: Client, site: LocalSite) -> None:
    batch = new_batch()
    result = run(workers, "enqueue", site.url(f"/gen/lines-{batch}"), "--batch", batch, "--wait", "--json")

    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == SUCCESS, result.stderr
    assert len(records) >= 2 and records[-1]["accepted"] == 1 and records[-1]["progress"]["indexed"] == 1
    assert all(r["batch"] == batch and "done" in r and datetime.fromisoformat(r["at"]) for r in records[:-1])


def _ctrl_c_as_at_a_terminal() -> None:
    """A shell starts a background job (``make test &``, CI) with SIGINT ignored, and Python then keeps ignoring it:
    the process under test gets SIGINT as a terminal delivers it, whatever ran the suite."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_wait_says_when_no_worker_runs_and_ctrl_c_leaves_the_batch_going(idle: Client, site: LocalSite,
                                                                        tmp_path: Path) -> None:
    batch = new_batch()
    err = tmp_path / "stderr"
    with err.open("w") as stderr:
        waiting = subprocess.Popen([READQ, "enqueue", site.url(f"/gen/idle-{batch}"), "--batch", batch, "--wait"],
                                   env={**os.environ, **settings_env(idle.settings), "PYTHONFAULTHANDLER": "1"},
                                   stdout=subprocess.PIPE, stderr=stderr, text=True,
                                   preexec_fn=_ctrl_c_as_at_a_terminal)
        try:
            wait_for(lambda: "no readq worker answers" in err.read_text(), "the warning", timeout=60)
            waiting.send_signal(signal.SIGINT)
            try:
                code = waiting.wait(timeout=30)
            except subprocess.TimeoutExpired:
                waiting.send_signal(signal.SIGABRT)  # with PYTHONFAULTHANDLER: every thread's stack on stderr
                waiting.wait(timeout=30)
                pytest.fail(f"readq did not stop within 30 s of Ctrl-C; where it was:\n{err.read_text()}")
        finally:
            if waiting.poll() is None:
                waiting.kill()
                waiting.wait()
    said = err.read_text()
    assert code == INTERRUPTED
    assert f"stopped waiting; batch {batch} goes on in the workers" in said and "Traceback" not in said
    progress = idle.progress(batch)
    assert progress is not None and progress.queued == 1  # still queued for a worker to come


def test_url_files_ignore_comments_and_blank_lines_and_count_duplicates(idle: Client, tmp_path: Path) -> None:
    clean = "# seeds for monday\n\nhttps://example.com/one\n  # indented note\nhttps://example.com/two\n" \
            "https://example.com/one\n"
    dirty = clean + "not a url\nftp://example.com/file\n"

    ok = run(idle, "enqueue", "--file", "-", "--json", stdin=clean)
    refused = run(idle, "enqueue", "--file", "-", "--json", "--force", stdin=dirty)

    assert ok.returncode == SUCCESS, ok.stderr
    receipt = json.loads(ok.stdout)
    assert (receipt["accepted"], receipt["duplicates"], receipt["refused"]) == (2, 1, 0)
    assert refused.returncode == PARTIAL
    assert json.loads(refused.stdout)["refused_by_reason"] == {"no_scheme": 1, "scheme": 1}


def test_the_retry_log_stays_bounded_and_forgets_what_is_done(idle: Client) -> None:
    client, prefix = idle.runtime.redis, idle.settings.redis_prefix
    log = RetryLog(client=client, prefix=prefix, kept=3)
    now = time.time()
    for i in range(5):
        log.record(f"https://example.com/{i}", f"id{i}", "b", stage="fetch", reason="timeout", error="slow",
                   attempt=1, countdown=60 + i, now=now)
    log.record("https://example.com/old", "old", "b", stage="fetch", reason="timeout", error="slow", attempt=3,
               countdown=1, now=now - 3600)  # due an hour ago: its attempt has run

    count, soonest = log.waiting(limit=10)

    assert count == 3 and [r.url for r in soonest] == [f"https://example.com/{i}" for i in (2, 3, 4)]
    assert 0 < client.ttl(f"{prefix}retry:id4") <= 64 + GRACE_SECONDS
    log.clear("id4")
    assert log.pending("id4") is None and log.waiting(limit=10)[0] == 2
    assert log.pending("id3") is not None and log.pending("id3").attempt == 1  # type: ignore[union-attr]


def test_a_worker_records_each_retry_it_schedules(workers: Client, site: LocalSite) -> None:
    """The fetch stage meets a 503 and schedules a retry: the retry log says why and when, as `readq get` shows."""
    batch = new_batch()
    url = site.url(f"/status/503?recorded={batch}")
    workers.enqueue([url], batch)

    pending = wait_for(lambda: workers.pending_retry(url), "the recorded retry", timeout=60, interval=0.05)

    assert (pending.url, pending.batch, pending.stage) == (url, batch, "fetch")
    assert 1 <= pending.attempt <= workers.settings.max_retries  # the last attempt schedules no retry
    assert pending.reason == "http_status" and "503" in pending.error
    assert pending.next_attempt_at <= time.time() + workers.settings.retry_backoff_max + 1
    wait_finished(workers, batch)
    record = wait_status_records(workers, [url])[url]
    assert (record["state"], record["attempts"]) == ("failed", workers.settings.max_retries + 1)
