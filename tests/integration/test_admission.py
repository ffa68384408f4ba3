"""The producer's admission of URLs (seen-set claim, ``queued`` state, fetch message) against real Redis: all of it
or none of it, whenever the producer dies. No worker consumes these namespaces, so the queue can be read back."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from config.settings import Settings
from readq import Client
from readq._services import wait_for
from tests.support.services import settings_env
from workers.state.progress import State
from workers.urls import url_id

READQ = shutil.which("readq", path=str(Path(sys.executable).parent)) or "readq"


@pytest.fixture
def own(settings: Settings) -> Iterator[Client]:
    """A namespace of the test's own: no worker takes its messages."""
    mine = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-adm{uuid.uuid4().hex[:6]}"})
    with Client(mine) as client:
        try:
            yield client
        finally:
            r = client.runtime.redis
            keys = list(r.scan_iter(match=f"{mine.redis_prefix}*", count=1000))
            if keys:
                r.delete(*keys)


def queued_urls(client: Client) -> list[str]:
    """The URLs of the fetch messages waiting in the queue, in queue order."""
    raw = client.runtime.redis.lrange(f"{client.settings.redis_prefix}fetch", 0, -1)
    return [json.loads(json.loads(message)["body"])[0][0] for message in raw]


def test_every_admitted_url_is_claimed_recorded_and_queued(own: Client) -> None:
    urls = [f"https://site{i % 7}.example/a/{i}" for i in range(2_500)]
    receipt = own.enqueue([*urls, urls[0], "not a url"], "adm")

    assert (receipt.accepted, receipt.already_seen, receipt.refused_count) == (2_500, 1, 1)
    assert sorted(queued_urls(own)) == sorted(urls)
    progress = own.progress("adm")
    assert progress is not None and (progress.total, progress.queued) == (2_500, 2_500)
    assert "adm" in own.runtime.progress.recent_batches(10)
    # In flight, a URL's entry holds the URL itself, so a lost message can be queued again from Redis alone.
    assert own.runtime.progress.unfinished_urls("adm") == {url_id(url): url for url in urls}
    assert all(own.runtime.seen.queued_at(url_id(url)) is not None for url in urls[:50])


def test_a_final_state_drops_the_url_from_its_entry(own: Client) -> None:
    own.enqueue(["https://example.org/x", "https://example.org/y"], "fin")
    own.runtime.progress.move_many("fin", [url_id("https://example.org/x")], State.INDEXED)

    assert own.runtime.progress.unfinished_urls("fin") == {url_id("https://example.org/y"): "https://example.org/y"}
    entry = own.runtime.redis.hget(f"{own.settings.redis_prefix}batch:fin:urls", url_id("https://example.org/x"))
    assert entry == b"indexed"


def test_a_write_refused_half_way_leaves_nothing_claimed(own: Client) -> None:
    """The script's writes fail on the queue (a key of the wrong type): no URL may be left claimed in the seen-set,
    or a re-run would skip it as already seen although it was never queued."""
    r = own.runtime.redis
    queue = f"{own.settings.redis_prefix}fetch"
    r.set(queue, "not a list")
    urls = [f"https://example.net/p/{i}" for i in range(10)]
    with pytest.raises(redis.ResponseError):
        own.enqueue(urls, "broken")
    assert all(own.runtime.seen.queued_at(url_id(url)) is None for url in urls)
    assert own.progress("broken") is None

    r.delete(queue)
    receipt = own.enqueue(urls, "broken")
    assert receipt.accepted == len(urls) and sorted(queued_urls(own)) == sorted(urls)


def _enqueue_process(settings: Settings, path: Path, batch: str) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("READQ_")}
    return subprocess.Popen([READQ, "enqueue", "--file", str(path), "--batch", batch, "--json"],
                            env={**env, **settings_env(settings)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.mark.parametrize("chunks_before_kill", [0, 1, 7, 20])
def test_a_producer_killed_at_any_point_loses_nothing(own: Client, tmp_path: Path, chunks_before_kill: int) -> None:
    """kill -9 of ``readq enqueue --file`` after 0, 1, 7 or 20 admitted chunks (of 1,000), then the same command
    again: every URL of the file is queued exactly once and counted once in the batch."""
    n = 30_000
    path = tmp_path / "urls.txt"
    path.write_text("".join(f"https://h{i % 997}.example/k/{i}\n" for i in range(n)))
    batch = f"kill-{chunks_before_kill}"
    queue = f"{own.settings.redis_prefix}fetch"
    r = own.runtime.redis

    producer = _enqueue_process(own.settings, path, batch)
    if chunks_before_kill:
        wait_for(lambda: producer.poll() is not None or r.llen(queue) >= chunks_before_kill * 1_000,
                 "the producer's first chunks", timeout=120, interval=0.01)
    producer.send_signal(signal.SIGKILL)
    producer.wait()

    again = _enqueue_process(own.settings, path, batch)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    receipt = json.loads(out)
    assert receipt["accepted"] + receipt["already_seen"] + receipt["already_queued"] == n

    queued = queued_urls(own)
    assert len(queued) == n and len(set(queued)) == n
    progress = own.progress(batch)
    assert progress is not None and (progress.total, progress.queued) == (n, n)
