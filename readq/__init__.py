"""readq: turn lists of URLs into clean, searchable documents.

    >>> import readq
    >>> receipt = readq.enqueue(["https://example.com/news/1"], batch="demo")
    >>> readq.progress(receipt.batch).finished
    >>> [hit.title for hit in readq.search("election results", size=5)]
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from config.settings import Settings
from readq._client import Client
from readq._producer import BatchReceipt, Refusal
from workers.errors import ReadqError, ServiceUnavailable
from workers.progress import BatchProgress
from workers.search_query import SearchHit, SearchQueryError, SearchResults

__all__ = [
    "BatchProgress",
    "BatchReceipt",
    "Client",
    "ReadqError",
    "Refusal",
    "SearchHit",
    "SearchQueryError",
    "SearchResults",
    "ServiceUnavailable",
    "Settings",
    "enqueue",
    "get",
    "progress",
    "search",
]


def enqueue(urls: Iterable[str], batch: str | None = None, *, settings: Settings | None = None) -> BatchReceipt:
    """Queue URLs for fetching, extraction and indexing; see :meth:`Client.enqueue`."""
    with Client(settings) as client:
        return client.enqueue(urls, batch)


def progress(batch: str, *, settings: Settings | None = None) -> BatchProgress | None:
    with Client(settings) as client:
        return client.progress(batch)


def get(url: str, *, settings: Settings | None = None) -> dict[str, Any] | None:
    with Client(settings) as client:
        return client.get(url)


def search(query: str, *, size: int = 10, offset: int = 0, domain: str | None = None, lang: str | None = None,
           since: date | None = None, until: date | None = None, collapse: bool = True,
           settings: Settings | None = None) -> SearchResults:
    """Search the indexed documents; see :meth:`Client.search`."""
    with Client(settings) as client:
        return client.search(query, size=size, offset=offset, domain=domain, lang=lang, since=since, until=until,
                             collapse=collapse)
