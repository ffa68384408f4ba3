"""The ``readq`` command as scripts run it: real process, JSON output, meaningful exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from readq import Client
from readq._exit_codes import PARTIAL, SUCCESS, UNAVAILABLE, USAGE
from tests.support.httpserver import LocalSite
from tests.support.services import hermetic_cwd, settings_env
from tests.support.waiting import distinctive_word

READQ = str(Path(sys.executable).with_name("readq"))


def run(client: Client, *args: str, stdin: str | None = None, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(client.settings), **overrides}
    return subprocess.run([READQ, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120,
                          cwd=hermetic_cwd())


def test_enqueue_wait_json_reports_the_tally_and_exits_0(workers: Client, site: LocalSite) -> None:
    batch = f"cli-{uuid.uuid4().hex[:8]}"
    result = run(workers, "enqueue", site.url(f"/pages/news-de.html?cli={batch}"), "--batch", batch, "--wait",
                 "--json")

    assert result.returncode == SUCCESS, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])  # progress lines first, the receipt last
    assert (report["batch"], report["accepted"], report["refused"]) == (batch, 1, 0)
    assert report["progress"]["indexed"] == 1 and report["progress"]["finished"]


def test_enqueue_from_stdin_with_refusals_and_failures_exits_2(workers: Client, site: LocalSite) -> None:
    lines = f"{site.url('/status/410?cli=1')}\n\njavascript:alert(1)\n{site.url('/pages/news-pl.html?cli=2')}\n"
    result = run(workers, "enqueue", "--file", "-", "--wait", "--json", stdin=lines)

    assert result.returncode == PARTIAL, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["accepted"] == 2
    assert report["refusals"] == [{"url": "javascript:alert(1)", "reason": "scheme",
                                   "message": "scheme 'javascript' is not allowed (http and https only)"}]
    assert (report["progress"]["indexed"], report["progress"]["failed"]) == (1, 1)


def test_unreachable_services_exit_1_naming_the_service(client: Client) -> None:
    no_redis = run(client, "enqueue", "https://example.com/", READQ_REDIS_URL="redis://127.0.0.1:1/0")
    no_es = run(client, "search", "anything", READQ_ES_URL="http://127.0.0.1:1")

    assert no_redis.returncode == UNAVAILABLE
    assert "Redis at redis://127.0.0.1:1/0 is unreachable" in no_redis.stderr
    assert no_es.returncode == UNAVAILABLE
    assert "Elasticsearch at http://127.0.0.1:1 is unreachable" in no_es.stderr
    assert "Traceback" not in no_redis.stderr + no_es.stderr


def test_usage_errors_exit_64_and_help_works(client: Client) -> None:
    assert run(client, "enqueue").returncode == USAGE
    assert run(client, "search", "--size", "0", "x").returncode == USAGE
    for command in ("enqueue", "status", "get", "search", "extract", "worker", "dev", "setup"):
        helped = run(client, command, "--help")
        assert helped.returncode == SUCCESS and "--json" in helped.stdout, command


def test_search_get_and_status_in_json(workers: Client, site: LocalSite) -> None:
    batch = f"cli-{uuid.uuid4().hex[:8]}"
    url = site.url(f"/pages/blog-en.html?cli={batch}")
    assert run(workers, "enqueue", url, "--batch", batch, "--wait").returncode == SUCCESS

    document = json.loads(run(workers, "get", url, "--json").stdout)
    word = distinctive_word(document)
    # --no-collapse: an earlier test indexed the same page under another URL, and near-duplicates fold into one hit
    hits = json.loads(run(workers, "search", word, "--json", "--size", "50", "--no-collapse").stdout)["hits"]
    status = json.loads(run(workers, "status", "--batch", batch, "--json").stdout)
    missing = run(workers, "get", site.url("/never-queued"), "--json")

    assert url in [hit["url"] for hit in hits]
    assert status["batches"][0]["indexed"] == 1 and status["batches"][0]["finished"]
    assert set(status["queues"]) == {"fetch", "index", "in_flight"}
    assert len(status["workers"]) >= 1
    assert missing.returncode == PARTIAL and json.loads(missing.stdout)["document"] is None


def test_extract_prints_what_the_pipeline_indexes(workers: Client, site: LocalSite, fixtures_dir: Path) -> None:
    batch = f"cli-{uuid.uuid4().hex[:8]}"
    url = site.url(f"/pages/news-de.html?cli={batch}")
    run(workers, "enqueue", url, "--batch", batch, "--wait")
    indexed = workers.get(url)

    result = run(workers, "extract", url, str(fixtures_dir / "login-wall.html"))

    assert result.returncode == PARTIAL  # the login wall has no readable content
    from_url, from_file = (json.loads(line) for line in result.stdout.splitlines())
    assert from_url["source"] == url
    assert indexed is not None
    for field in ("title", "text", "author", "published", "lang", "site_name", "canonical_url", "content_hash"):
        assert from_url[field] == getattr(indexed, field), field
    assert from_file["reason"] == "no_readable_content"
