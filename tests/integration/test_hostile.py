"""Hostile input: pages built to hurt a crawler, and URLs no crawler should take. Each ends with a specific
reason, the workers alive, and the rest of the batch indexed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from config.celery import Queue
from config.settings import Settings
from readq import Client
from tests.integration.test_cli import READQ
from tests.support.httpserver import LocalSite
from tests.support.services import drop_indices, hermetic_cwd, settings_env
from tests.support.waiting import wait_finished, wait_status_records

#: path on the test site -> (final state, reason) expected in its status record.
HOSTILE_PAGES = {
    "/endless": ("skipped", "too_large"),
    "/huge": ("skipped", "too_large"),  # declares 10 GB
    "/gzip-bomb": ("skipped", "too_large"),  # 10 MB of gzip expanding to 10 GB
    "/drip?every=1": ("failed", "timeout"),  # slowloris: a byte a second never trips the read timeout
    "/loop/0": ("failed", "too_many_redirects"),
    "/chain/0": ("failed", "too_many_redirects"),  # 30 hops and more
    "/binary": ("skipped", "content_type"),  # binary served as text/html
    "/empty": ("skipped", "no_readable_content"),
    "/pages/login-wall.html": ("skipped", "no_readable_content"),
    "/typed/pdf": ("skipped", "content_type"),
    "/typed/png": ("skipped", "content_type"),
    "/json": ("skipped", "content_type"),
}
#: pages that are fine once read right: indexed with their text intact.
SURVIVING_PAGES = {
    "/charset/news-de.html?claim=bogus-8": "beschließt",  # an encoding that does not exist
    "/charset/news-de.html?claim=iso-8859-7": "beschließt",  # a charset that lies (the bytes are UTF-8)
    "/nesting": "starter goes quiet",  # the article, then 5 MB of <div> nesting
}


def test_hostile_pages_fail_or_skip_alone_with_specific_reasons(workers: Client, site: LocalSite) -> None:
    batch = f"hostile-{uuid.uuid4().hex[:8]}"
    tag = f"b={batch}"
    hostile = {site.url(f"{path}{'&' if '?' in path else '?'}{tag}"): expected for path, expected in
               HOSTILE_PAGES.items()}
    surviving = {site.url(f"{path}{'&' if '?' in path else '?'}{tag}"): word for path, word in
                 SURVIVING_PAGES.items()}
    good = [site.url(f"/gen/{batch}-{i}") for i in range(5)]

    receipt = workers.enqueue([*hostile, *surviving, *good], batch)
    assert receipt.accepted == len(hostile) + len(surviving) + len(good)
    progress = wait_finished(workers, batch, timeout=180)

    records = wait_status_records(workers, list(hostile))
    assert {url: (r["state"], r["reason"]) for url, r in records.items()} == hostile
    assert all(records[url]["error"] for url in hostile)
    for url, word in surviving.items():
        document = workers.get(url)
        assert document is not None, workers.url_status(url)
        assert word in document.text and "Ã" not in document.text
    assert all(workers.get(url) is not None for url in good)
    assert progress.indexed == len(surviving) + len(good)
    assert workers.workers(timeout=5)  # the worker still answers


@pytest.mark.parametrize(("url", "reason"), [
    ("http://example.com/" + "a" * 10_000, "too_long"),
    ("http://example.com/a\x07b", "invalid_characters"),
    ("http://example.com/\r\nX-Injected: 1", "invalid_characters"),
    ("http://user:secret@example.com/", "credentials"),
    ("file:///etc/passwd", "scheme"),
    ("ftp://example.com/file", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("http://", "no_host"),
    ("http://exa mple.com/", "invalid_characters"),
])
def test_hostile_urls_are_refused_with_their_reason(client: Client, site: LocalSite, url: str, reason: str) -> None:
    batch = f"refuse-{uuid.uuid4().hex[:8]}"
    receipt = client.enqueue([url, site.url(f"/gen/{batch}")], batch)
    assert (receipt.accepted, dict(receipt.refused_by_reason)) == (1, {reason: 1})
    assert "secret" not in str(receipt.to_dict())



def _url_file(path: Path, lines: int, distinct: int) -> Path:
    """Blank lines, garbage, refused schemes and valid URLs, each valid one repeated many times."""
    with path.open("w") as out:
        for i in range(lines):
            kind = i % 10
            if kind == 0:
                out.write("\n")
            elif kind == 1:
                out.write(f"garbage line {i} \x00 <not a url>\n")
            elif kind == 2:
                out.write(f"ftp://host{i % 50}.example/file/{i}\n")
            else:
                page = i % distinct
                out.write(f"  http://HOST{page % 50}.example:80/page/{page}?utm_source=x#top  \n")
    return path


def _enqueue_file(settings: Settings, path: Path) -> tuple[dict[str, Any], int]:
    """``readq enqueue --file`` in a process of its own: its JSON receipt and its peak resident size (KiB)."""
    measure = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, "
               "text=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(done.stdout)")
    env = {**os.environ, **settings_env(settings)}
    done = subprocess.run([sys.executable, "-c", measure, READQ, "enqueue", "--file", str(path), "--json"],
                          env=env, capture_output=True, text=True, timeout=600, check=True, cwd=hermetic_cwd())
    peak_kib, receipt = done.stdout.split("\n", 1)
    return json.loads(receipt), int(peak_kib)


def test_a_million_line_file_is_queued_in_bounded_memory(settings: Settings, tmp_path: Path) -> None:
    """A file of a million lines costs the producer no more memory than one of a hundred thousand."""
    own = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-file{uuid.uuid4().hex[:6]}"})
    with Client(own) as client:
        client.install_templates()
        try:
            small, small_peak = _enqueue_file(own, _url_file(tmp_path / "small.txt", 100_000, 4_999))
            large, large_peak = _enqueue_file(own, _url_file(tmp_path / "large.txt", 1_000_000, 4_999))
        finally:
            drop_indices(client)
            client.runtime.redis.delete(*client.runtime.redis.scan_iter(match=f"{own.index_prefix}:*") or ["-"])

    assert (small["accepted"], small["refused"]) == (4_999, 20_000)
    assert large["refused_by_reason"] == {"no_scheme": 100_000, "scheme": 100_000}
    assert large["accepted"] == 0  # the same 4,999 URLs: already seen in the first run
    assert large_peak < small_peak * 1.25, (small_peak, large_peak)


def test_a_pickled_task_is_refused_unread(workers: Client, site: LocalSite) -> None:
    """Workers accept JSON only: a pickle message (which could run code as it is read) is dropped unread."""
    batch = f"pickle-{uuid.uuid4().hex[:8]}"
    pickled = f"/gen/{batch}-pickled"
    workers.celery.send_task(Queue.FETCH.task, args=[site.url(pickled), batch], serializer="pickle")
    after = [site.url(f"/gen/{batch}-{i}") for i in range(3)]
    workers.enqueue(after, batch)  # queued behind it, on the same queue

    assert wait_finished(workers, batch).indexed == len(after)
    assert site.hits[pickled] == 0
