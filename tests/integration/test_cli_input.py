"""What the ``readq`` command prints and how it reads: no secret in any output, URL files read strictly, clear
errors instead of tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from readq import Client
from readq._exit_codes import PARTIAL, SUCCESS, UNAVAILABLE, USAGE
from readq._services import RedisServer
from tests.integration.test_cli import READQ, run
from tests.support.services import hermetic_cwd, settings_env

PASSWORD = "hunter2-" + uuid.uuid4().hex[:8]


def test_no_command_prints_a_redis_or_elasticsearch_password(client: Client, tmp_path: Path) -> None:
    es_port = client.settings.es_url.rsplit(":", 1)[1]
    es_with_password = f"http://elastic:{PASSWORD}@127.0.0.1:{es_port}"
    redis_server = RedisServer(tmp_path, password=PASSWORD, appendfsync="always").start()
    try:
        healthy = {"READQ_REDIS_URL": redis_server.url, "READQ_ES_URL": es_with_password}
        dead_redis = {"READQ_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:1/0"}
        dead_es = {"READQ_ES_URL": f"http://elastic:{PASSWORD}@127.0.0.1:1"}
        results = {
            "doctor": run(client, "doctor", **healthy),
            "doctor --json": run(client, "doctor", "--json", **healthy),
            "status": run(client, "status", "--json", **dead_redis),
            "status es down": run(client, "status", "--json", **{**healthy, **dead_es}),
            "enqueue": run(client, "enqueue", "https://example.com/", **dead_redis),
            "enqueue es down": run(client, "enqueue", "https://example.com/", **dead_es),
            "search": run(client, "search", "anything", **dead_es),
            "doctor redis down": run(client, "doctor", "--json", **dead_redis),
        }
    finally:
        redis_server.stop()
    for name, result in results.items():
        assert PASSWORD not in result.stdout + result.stderr, name
    doctor = {check["name"]: check for check in json.loads(results["doctor --json"].stdout)}
    assert doctor["redis"]["level"] == "ok"
    assert doctor["redis"]["detail"].endswith(f"at redis://***@127.0.0.1:{redis_server.port}/0")
    assert doctor["elasticsearch"]["detail"].endswith(f"at http://***@127.0.0.1:{es_port}")
    assert "redis://***@127.0.0.1:1/0 is unreachable" in results["enqueue"].stderr
    assert "Elasticsearch at http://***@127.0.0.1:1 is unreachable" in results["search"].stderr
    assert json.loads(results["status es down"].stdout)["elasticsearch"].startswith("unreachable at http://***@")


def test_url_file_with_a_bom_and_bytes_that_are_not_utf8(client: Client, tmp_path: Path) -> None:
    batch = f"bom-{uuid.uuid4().hex[:8]}"
    url_file = tmp_path / "urls.txt"
    url_file.write_bytes(b"\xef\xbb\xbfhttps://example.com/bom-" + batch.encode() + b"\n"
                         b"https://example.com/latin1-caf\xe9\n\nhttps://example.com/ok-" + batch.encode() + b"\n")

    result = run(client, "enqueue", "--file", str(url_file), "--batch", batch, "--json")

    assert result.returncode == PARTIAL, result.stderr
    report = json.loads(result.stdout)
    assert report["accepted"] == 2
    assert report["refused_by_reason"] == {"not_utf8": 1}
    assert report["refusals"] == [{"url": "https://example.com/latin1-caf\\xe9", "reason": "not_utf8",
                                   "message": "line 2 is not UTF-8 text (byte 0xe9 at offset 30)"}]
    progress = client.progress(batch)
    assert progress is not None and progress.total == 2


def test_closed_stdin_and_a_missing_file_are_usage_errors(client: Client, tmp_path: Path) -> None:
    # `readq enqueue --file - <&-`: the command starts with no standard input at all.
    closed = subprocess.run([READQ, "enqueue", "--file", "-"], env={**os.environ, **settings_env(client.settings)},
                            capture_output=True, text=True, timeout=60, cwd=hermetic_cwd(),
                            preexec_fn=lambda: os.close(0))
    missing = run(client, "enqueue", "--file", str(tmp_path / "nope.txt"))

    assert closed.returncode == USAGE, closed.stderr
    assert "standard input is closed" in closed.stderr and "Traceback" not in closed.stderr
    assert missing.returncode == USAGE and "does not exist" in missing.stderr


@pytest.mark.parametrize("command", [["search", "anything"], ["status", "--failed"]])
def test_search_without_an_index_is_a_clear_error(client: Client, command: list[str]) -> None:
    missing = f"{client.settings.index_prefix}-missing"
    result = run(client, *command, READQ_INDEX_PREFIX=missing)

    assert result.returncode == UNAVAILABLE
    assert f"has no index '{missing}-" in result.stderr and "run `readq setup`" in result.stderr
    assert "Traceback" not in result.stderr
    # Where the index exists the same search runs: a hit (0) or none (2), whatever earlier tests indexed.
    assert run(client, "search", "anything", "--json").returncode in (SUCCESS, PARTIAL)
