"""readq: turn lists of URLs into clean, searchable documents.

    >>> import readq
    >>> receipt = readq.enqueue(["https://example.com/news/1"], batch="demo")
    >>> readq.progress(receipt.batch).finished
    >>> [hit.title for hit in readq.search("election results", size=5)]
"""

from __future__ import annotations

from collections.abc import Iterable

from config.settings import Settings
from readq._client import Client, Document, SearchHit
from readq._producer import BatchReceipt, Refusal
from workers.errors import ReadqError, ServiceUnavailable
from workers.progress import BatchProgress

__all__ = [
    "BatchProgress",
    "BatchReceipt",
    "Client",
    "Document",
    "ReadqError",
    "Refusal",
    "SearchHit",
    "ServiceUnavailable",
    "Settings",
    "enqueue",
    "get",
    "progress",
    "search",
]


def __dir__() -> list[str]:
    """The public API only, not the names this module imports for itself."""
    return sorted(__all__)


def enqueue(urls: Iterable[str], batch: str | None = None, *, settings: Settings | None = None) -> BatchReceipt:
    """Queue URLs for fetching, extraction and indexing; see :meth:`Client.enqueue`."""
    with Client(settings) as client:
        return client.enqueue(urls, batch)


def progress(batch: str, *, settings: Settings | None = None) -> BatchProgress | None:
    """The batch's progress from its Redis counters, None if the batch is unknown or expired."""
    with Client(settings) as client:
        return client.progress(batch)


def get(url: str, *, settings: Settings | None = None) -> Document | None:
    """The stored document of ``url`` (or of the page whose canonical URL it is), None if there is none."""
    with Client(settings) as client:
        return client.get(url)


def search(query: str, *, size: int = 10, domain: str | None = None, lang: str | None = None,
           settings: Settings | None = None) -> list[SearchHit]:
    with Client(settings) as client:
        return client.search(query, size=size, domain=domain, lang=lang)
