"""workers/extraction/pool.py: pages extracted in processes of the pool's own, each page under a time limit and
each process under a memory limit; a process that ends takes its page alone with it, and the pool goes on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from readq._services import wait_for
from tests.support.services import extraction_processes
from workers.errors import ExtractProcessLost, ExtractTimeout, MemoryLimitExceeded, NoReadableContent
from workers.extraction.extractor import Extractor
from workers.extraction.pool import ExtractionPool
from workers.fetching.fetcher import FetchedPage

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"
BALLOON = ("<html><body>" + "".join(f"<div><p>word{i} is here</p></div>" for i in range(150_000))
           + "</body></html>").encode()  # megabytes of tiny elements: seconds and hundreds of MB to extract


def page(body: bytes, url: str = "http://example.com/a") -> FetchedPage:
    return FetchedPage(url=url, final_url=url, status=200, content_type="text/html", body=body,
                       fetched_at="2026-01-01T00:00:00+00:00", elapsed_ms=1)


def a_pool(**limits: float) -> ExtractionPool:
    settings = {"time_limit": 60.0, "memory_limit_mb": 0, **limits}
    return ExtractionPool(extractor=Extractor(min_text_chars=200), processes=1, pages_per_process=100,
                          time_limit=settings["time_limit"], memory_limit_mb=int(settings["memory_limit_mb"]))


@pytest.fixture(scope="module")
def pool() -> Iterator[ExtractionPool]:
    extraction = a_pool()
    extraction.start()
    yield extraction
    extraction.close()


def test_a_page_comes_back_as_its_document(pool: ExtractionPool) -> None:
    extracted = pool.document(page((PAGES / "news-de.html").read_bytes()), url="http://example.com/a", batch="b")

    assert extracted.document["url"] == "http://example.com/a" and extracted.document["batch"] == "b"
    assert extracted.document["lang"] == "de" and len(extracted.document["text"]) > 200
    assert extracted.document["minhash"] and extracted.seconds > 0


def test_extraction_errors_reach_the_caller_as_themselves(pool: ExtractionPool) -> None:
    with pytest.raises(NoReadableContent):
        pool.document(page(b"<html><body><p>Too short.</p></body></html>"), url="http://example.com/s", batch="b")


def test_a_process_killed_between_pages_is_replaced(pool: ExtractionPool) -> None:
    victim = wait_for(lambda: extraction_processes(os.getpid()), "an extraction process")[0]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: victim not in extraction_processes(os.getpid()), "the process to end")

    outcomes = []
    for _ in range(3):  # the first page may find the pool broken and be given back to be tried again
        try:
            outcomes.append(pool.document(page((PAGES / "blog-en.html").read_bytes()), url="http://e.com/k",
                                          batch="b").document["lang"])
        except ExtractProcessLost:
            outcomes.append("lost")
    assert outcomes[-2:] == ["en", "en"], outcomes


# Run as ``python -c``: under pytest a process forked from the fork server first re-imports pytest's script as
# its __main__ (multiprocessing's rule for a main given by path), which a ``python -m celery`` worker's do not.
WARM_PROBE = """
import time
from workers.extraction.extractor import Extractor
from workers.extraction.pool import ExtractionPool

pool = ExtractionPool(extractor=Extractor(min_text_chars=200), processes=1, pages_per_process=100,
                      time_limit=60, memory_limit_mb=0)
try:
    print(pool._pool.schedule(time.process_time).result())  # the new process's own CPU seconds, its start included
finally:
    pool.close()
"""


def test_a_new_process_starts_warm_from_the_fork_server() -> None:
    probe = subprocess.run([sys.executable, "-c", WARM_PROBE], capture_output=True, text=True, timeout=120,
                           cwd=Path(__file__).resolve().parents[3], check=True)
    assert 0 < float(probe.stdout) < 0.3  # the models were loaded once, in the fork server (~0.9 s of CPU)


def test_a_page_past_the_time_limit_fails_alone() -> None:
    extraction = a_pool(time_limit=0.5)
    try:
        with pytest.raises(ExtractTimeout, match="READQ_EXTRACT_TIME_LIMIT"):
            extraction.document(page(BALLOON), url="http://example.com/slow", batch="b")
        after = extraction.document(page((PAGES / "news-de.html").read_bytes()), url="http://e.com/x", batch="b")
    finally:
        extraction.close()
    assert after.document["lang"] == "de"


def test_a_page_past_the_memory_limit_fails_alone() -> None:
    extraction = a_pool(memory_limit_mb=300)
    try:
        with pytest.raises(MemoryLimitExceeded, match="300 MB"):
            extraction.document(page(BALLOON * 2), url="http://example.com/big", batch="b")
        after = extraction.document(page((PAGES / "news-de.html").read_bytes()), url="http://e.com/y", batch="b")
    finally:
        extraction.close()
    assert after.document["lang"] == "de"
