"""What the indexed version of a page says about itself (validators for a conditional GET, its text's hash), looked
up for many fetch threads at once: one ``_mget`` per group of pages rather than a ``GET`` per page."""

from __future__ import annotations

import logging
from typing import Any, cast

from elasticsearch import ApiError, Elasticsearch, TransportError

from config.settings import Settings
from workers.fetching.policy import PreviousFetch
from workers.groupcommit import GroupCommit, Unit
from workers.urls import url_id

logger = logging.getLogger(__name__)

PREVIOUS_FIELDS = ("etag", "last_modified", "content_hash", "batch")
LOOKUP_FLUSH_SECONDS = 0.1  # what a fetch waits at most for others to share its lookup (one _mget)


class PreviousVersions(GroupCommit[str]):
    def __init__(self, *, es: Elasticsearch, alias: str, max_items: int, flush_interval: float,
                 timeout: float) -> None:
        self.es = es.options(ignore_status=404)  # made once: each options() call builds a client
        self.alias = alias
        self.timeout = timeout
        super().__init__(max_items=max_items, flush_interval=flush_interval, name="readq-previous")

    @classmethod
    def from_settings(cls, settings: Settings, es: Elasticsearch) -> PreviousVersions:
        return cls(es=es, alias=settings.pages_alias, max_items=settings.bulk_max_docs,
                   flush_interval=LOOKUP_FLUSH_SECONDS, timeout=settings.es_request_timeout + 5)

    def lookup(self, url: str) -> PreviousFetch | None:
        """The indexed version of ``url``; None if there is none or Elasticsearch cannot say now."""
        return cast(PreviousFetch | None, self._answer_within(url_id(url), self.timeout))

    def _send(self, units: list[Unit[str]]) -> None:
        try:
            docs = self.es.mget(
                index=self.alias, ids=[unit.item for unit in units], source_includes=list(PREVIOUS_FIELDS))["docs"]
        except (ApiError, TransportError):
            docs = [{}] * len(units)
        except Exception:  # the flusher thread must survive anything and still answer every caller
            logger.exception("unexpected error looking up indexed versions")
            docs = [{}] * len(units)
        for unit, doc in zip(units, docs, strict=True):
            unit.future.set_result(_previous(doc))


def _previous(doc: dict[str, Any]) -> PreviousFetch | None:
    if not doc.get("found"):
        return None
    source = doc["_source"]
    return PreviousFetch(**{name: source.get(name) for name in PREVIOUS_FIELDS})
