"""Extraction off the fetch threads: a pool of processes the worker owns, each page under a time limit and each
process under a memory limit.

A page that passes either limit ends its process, which the pool replaces; that page alone fails (``timeout``,
``memory_limit``), the worker, its threads and every other page go on. Processes come from a fork server that
imported the extractor and loaded what extraction loads on first use (the language model, MinHash: ~0.9 s of CPU)
once, so a replacement costs a fork, not an interpreter start and that load.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from pebble import ProcessExpired, ProcessPool

from config.settings import Settings
from workers.errors import ExtractProcessLost, ExtractTimeout, MemoryLimitExceeded, ReadqError
from workers.extraction.documents import PageDocument, page_document
from workers.extraction.extractor import Extractor
from workers.extraction.memory import MEMORY_LIMIT_EXIT_CODE, MemoryWatchdog
from workers.fetching.fetcher import FetchedPage

logger = logging.getLogger(__name__)
CLOSE_TIMEOUT = 30.0  # s a closing pool waits for pages under way

WARM_UP_PAGE = b"<html><body><article><p>%s</p></article></body></html>" % (b"A sentence to warm up with. " * 10)

_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload(["workers.extraction.forkserver"])

_extractor: Extractor | None = None  # in an extraction process: the one it was started with


@dataclass(frozen=True)
class ExtractedPage:
    document: PageDocument
    seconds: float  # spent in the extraction process


class ExtractionPool:
    def __init__(self, *, extractor: Extractor, processes: int, time_limit: float, memory_limit_mb: int,
                 pages_per_process: int) -> None:
        self.extractor = extractor
        self.processes = processes
        self.time_limit = time_limit
        self.memory_limit_mb = memory_limit_mb
        self.pages_per_process = pages_per_process
        self._pool = self._new_pool()
        self._replacing = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> ExtractionPool:
        return cls(extractor=Extractor.from_settings(settings),
                   processes=settings.extract_concurrency or os.cpu_count() or 1,
                   time_limit=settings.extract_time_limit, memory_limit_mb=settings.extract_memory_limit_mb,
                   pages_per_process=settings.extract_pages_per_process)

    def document(self, page: FetchedPage, *, url: str, batch: str) -> ExtractedPage:
        """The page's document, built in an extraction process. Raises what extraction raises (NoReadableContent,
        ExtractTimeout...), and MemoryLimitExceeded or ExtractProcessLost when the process ended under the page."""
        pool = self._pool
        try:
            future = pool.schedule(_document_in_process, args=(page, url, batch), timeout=self.time_limit)
        except RuntimeError:  # pebble's "Unexpected error within the Pool": it gave up (see below)
            raise self._replaced(pool) from None
        try:
            result: ExtractedPage = future.result()
        except BrokenProcessPool:
            # pebble gives up on the whole pool when a process dies while no page runs anywhere (the system's
            # OOM killer, an operator): a new pool takes its place, and this page is tried again.
            raise self._replaced(pool) from None
        except TimeoutError:
            raise ExtractTimeout(f"extraction took longer than READQ_EXTRACT_TIME_LIMIT ({self.time_limit:g} s); "
                                 "its process was replaced") from None
        except ProcessExpired as exc:
            if exc.exitcode == MEMORY_LIMIT_EXIT_CODE:
                raise MemoryLimitExceeded(f"the extraction process passed READQ_EXTRACT_MEMORY_LIMIT_MB "
                                          f"({self.memory_limit_mb} MB) on this page and was replaced") from None
            raise ExtractProcessLost(f"the extraction process ended (exit code {exc.exitcode}) while it worked on "
                                     "this page") from None
        return result

    def _new_pool(self) -> ProcessPool:
        return ProcessPool(max_workers=self.processes, max_tasks=self.pages_per_process, context=_FORKSERVER,
                           initializer=_start_process, initargs=(self.extractor, self.memory_limit_mb * 2**20))

    def _replaced(self, broken: ProcessPool) -> ExtractProcessLost:
        with self._replacing:
            if self._pool is broken:
                logger.error("the extraction pool broke (a process ended between pages); starting a new one")
                broken.stop()  # type: ignore[no-untyped-call]
                self._pool = self._new_pool()
        return ExtractProcessLost("an extraction process ended and its pool was restarted")

    def start(self) -> None:
        """Start the processes now rather than for the first page."""
        self._pool.schedule(os.getpid).result()

    def close(self) -> None:
        self._pool.close()  # type: ignore[no-untyped-call]
        self._pool.join(CLOSE_TIMEOUT)


def warm_up(extractor: Extractor) -> None:
    """Load what extraction loads on first use (the language model, MinHash) before the first page's clock."""
    with contextlib.suppress(ReadqError):
        page_document(extractor, WARM_UP_PAGE, content_type="text/html", url="http://warm.up/",
                      final_url="http://warm.up/", fetched_at="", http_status=200, batch=None)


def _start_process(extractor: Extractor, memory_limit: int) -> None:
    global _extractor
    _extractor = extractor
    warm_up(extractor)  # a few ms when forked from the warm fork server
    if memory_limit:
        MemoryWatchdog(memory_limit, on_exceeded=_say_memory_exceeded).start()


def _say_memory_exceeded(resident: int) -> None:
    logger.error("extraction process %d ends: %d MB resident, above READQ_EXTRACT_MEMORY_LIMIT_MB",
                 os.getpid(), resident // 2**20)


def _document_in_process(page: FetchedPage, url: str, batch: str) -> ExtractedPage:
    assert _extractor is not None, "started without _start_process"
    started = time.perf_counter()
    document = page_document(_extractor, page.body, content_type=page.content_type, url=url,
                             final_url=page.final_url, fetched_at=page.fetched_at, http_status=page.status,
                             batch=batch, etag=page.etag, last_modified=page.last_modified)
    return ExtractedPage(document, time.perf_counter() - started)
