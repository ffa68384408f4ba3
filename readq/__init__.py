"""readq: turn lists of URLs into clean, searchable documents.

    >>> import readq
    >>> receipt = readq.enqueue(["https://example.com/news/1"], batch="demo")
    >>> readq.progress(receipt.batch).finished
    >>> [hit.title for hit in readq.search("election results", size=5)]

The classes load on first use, so that ``import readq`` (and the ``readq`` command) start fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config.settings import Settings
    from readq._client import Client, Document
    from readq._producer import BatchReceipt, Refusal
    from workers.errors import ReadqError, ServiceUnavailable
    from workers.indexing.query import SearchHit, SearchQueryError, SearchResults
    from workers.state.progress import BatchProgress

__all__ = [
    "BatchProgress",
    "BatchReceipt",
    "Client",
    "Document",
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

_HOMES = {
    "BatchProgress": "workers.state.progress",
    "BatchReceipt": "readq._producer",
    "Client": "readq._client",
    "Document": "readq._client",
    "ReadqError": "workers.errors",
    "Refusal": "readq._producer",
    "SearchHit": "workers.indexing.query",
    "SearchQueryError": "workers.indexing.query",
    "SearchResults": "workers.indexing.query",
    "ServiceUnavailable": "workers.errors",
    "Settings": "config.settings",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'readq' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public API only, not the names this module uses for itself."""
    return sorted(__all__)


def _client(settings: Settings | None) -> Client:
    from readq._client import Client

    return Client(settings)


def enqueue(urls: Iterable[str], batch: str | None = None, *, settings: Settings | None = None) -> BatchReceipt:
    """Queue URLs for fetching, extraction and indexing; see :meth:`Client.enqueue`."""
    with _client(settings) as client:
        return client.enqueue(urls, batch)


def progress(batch: str, *, settings: Settings | None = None) -> BatchProgress | None:
    """The batch's progress from its Redis counters, None if the batch is unknown or expired."""
    with _client(settings) as client:
        return client.progress(batch)


def get(url: str, *, settings: Settings | None = None) -> Document | None:
    """The stored document of ``url`` (or of the page whose canonical URL it is), None if there is none."""
    with _client(settings) as client:
        return client.get(url)


def search(query: str, *, size: int = 10, offset: int = 0, domain: str | None = None, lang: str | None = None,
           since: date | None = None, until: date | None = None, collapse: bool = True,
           settings: Settings | None = None) -> SearchResults:
    """Search the indexed documents; see :meth:`Client.search`."""
    with _client(settings) as client:
        return client.search(query, size=size, offset=offset, domain=domain, lang=lang, since=since, until=until,
                             collapse=collapse)
