"""workers/metrics.py: the exporter serves what a worker counts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from readq._services import free_port
from tests.support.services import hermetic_cwd

ROOT = Path(__file__).resolve().parents[2]

SINGLE = """
    import sys
    from workers import metrics as m

    port = int(sys.argv[1])
    m.start_metrics_server(port, addr="127.0.0.1")
    m.start_metrics_server(port, addr="127.0.0.1")  # a second call is a no-op, not "address in use"
    m.PAGES_FETCHED.labels(outcome="ok").inc(3)
    m.PAGES_FETCHED.labels(outcome="timeout").inc()
    m.FETCH_SECONDS.observe(0.3)
    m.FETCH_BYTES.observe(20_000)
    m.PAGES_INDEXED.inc(2)
    m.PAGES_FAILED.labels(stage="fetch", reason="http_404").inc()
    m.PAGES_SKIPPED.labels(reason="no_readable_content").inc()
    m.BULK_DOCUMENTS.observe(2)
    m.BULK_SECONDS.observe(0.02)
    m.QUEUE_DEPTH.labels(queue="fetch").set(7)
    print("ready", flush=True)
    sys.stdin.read()
"""

@contextmanager
def _exporter(script: str, env: dict[str, str]) -> Iterator[dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """Run ``script`` in a fresh interpreter, then yield its /metrics as {(sample, labels): value}."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), str(port)],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert response.status_code == 200
        yield {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def test_single_process_exporter() -> None:
    with _exporter(SINGLE, _env()) as samples:
        assert samples["readq_pages_fetched_total", (("outcome", "ok"),)] == 3
        assert samples["readq_pages_fetched_total", (("outcome", "timeout"),)] == 1
        assert samples["readq_fetch_seconds_count", ()] == 1
        assert samples["readq_fetch_seconds_sum", ()] == 0.3
        assert samples["readq_fetch_seconds_bucket", (("le", "0.25"),)] == 0
        assert samples["readq_fetch_seconds_bucket", (("le", "0.5"),)] == 1
        assert samples["readq_fetch_bytes_bucket", (("le", "65536.0"),)] == 1
        assert samples["readq_pages_indexed_total", ()] == 2
        assert samples["readq_pages_failed_total", (("reason", "http_404"), ("stage", "fetch"))] == 1
        assert samples["readq_pages_skipped_total", (("reason", "no_readable_content"),)] == 1
        assert samples["readq_bulk_documents_count", ()] == 1
        assert samples["readq_bulk_seconds_count", ()] == 1
        assert samples["readq_queue_depth", (("queue", "fetch"),)] == 7


WORKER_EXPORTER = """
    import sys
    from tasks import lifecycle as runtime

    runtime._serve_metrics()
    print("ready", flush=True)
    sys.stdin.read()
"""


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port`` (Linux /proc/net/tcp, state 0A = LISTEN)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]) if len(address) == 8 else address)
    return found


@pytest.mark.parametrize(("address", "expected"), [(None, {"127.0.0.1"}), ("0.0.0.0", {"0.0.0.0"})])
def test_a_worker_exporter_listens_on_loopback_unless_told(address: str | None, expected: set[str]) -> None:
    port = free_port()
    env = {key: value for key, value in _env().items() if not key.startswith("READQ_")}
    env["READQ_METRICS_PORT"] = str(port)
    if address is not None:
        env["READQ_METRICS_ADDRESS"] = address
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(WORKER_EXPORTER)], cwd=hermetic_cwd(), env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert _listening_addresses(port) == expected
        assert requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).ok
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
