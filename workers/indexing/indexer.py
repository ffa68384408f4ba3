"""Group commit into Elasticsearch: many callers, one ``_bulk`` request, each caller told how its part fared.

A caller submits a *unit* (one or more bulk actions that belong together, e.g. a page and its status record)
and gets a future. Everything pending goes out as one ``_bulk`` (see :mod:`workers.groupcommit` for when);
then each future is resolved from that unit's items: success, :class:`DocumentRejected` for that unit alone, or
:class:`ElasticsearchUnavailable` when the request as a whole failed or Elasticsearch pushed back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import orjson
from elasticsearch import ApiError, Elasticsearch, TransportError

from config.settings import Settings
from workers.errors import DocumentRejected, ElasticsearchUnavailable, IndexingError
from workers.groupcommit import GroupCommit, Unit

logger = logging.getLogger(__name__)

Action = tuple[dict[str, Any], Mapping[str, Any] | None]  # (action line, source or None for delete)
# Elasticsearch's own "too busy" (a full write queue) and "unavailable": its protocol, not a fetch policy.
BACKPRESSURE_STATUSES = frozenset({429, 503})
HOLD_BACKOFF_MIN, HOLD_BACKOFF_MAX = 1.0, 30.0  # s between tries while Elasticsearch is unavailable
CONFLICT = 409  # an external version already newer: the newer record wins, which is what we want


@dataclass(frozen=True)
class _Encoded:
    """A unit's actions, serialised once, as the lines of a ``_bulk`` body."""

    actions: int
    ndjson: bytes

    @classmethod
    def of(cls, actions: list[Action]) -> _Encoded:
        lines = [orjson.dumps(line) for action, source in actions for line in (action, source) if line is not None]
        return cls(actions=len(actions), ndjson=b"\n".join(lines) + b"\n")


class BulkIndexer(GroupCommit[_Encoded]):
    def __init__(self, *, es: Elasticsearch, max_docs: int, max_bytes: int, flush_interval: float,
                 on_flush: Callable[[int, float], None] | None = None, hold_when_unavailable: int = 0) -> None:
        """``on_flush(units, seconds)`` is told the size and duration of each _bulk request.

        With ``hold_when_unavailable`` > 0 (for fire-and-forget writers such as status records), a request that
        fails as a whole is kept and sent again with backoff, holding at most that many units (the oldest are
        dropped beyond it), instead of failing its callers.
        """
        self.es = es
        self.on_flush = on_flush
        self.hold_when_unavailable = hold_when_unavailable
        self._backoff = 0.0
        super().__init__(max_items=max_docs, max_bytes=max_bytes, flush_interval=flush_interval, name="readq-bulk")

    @classmethod
    def from_settings(cls, settings: Settings, es: Elasticsearch, *, flush_ms: int | None = None,
                      on_flush: Callable[[int, float], None] | None = None,
                      hold_when_unavailable: int = 0) -> BulkIndexer:
        return cls(
            es=es,
            max_docs=settings.bulk_max_docs,
            max_bytes=settings.bulk_max_bytes,
            flush_interval=(flush_ms if flush_ms is not None else settings.bulk_flush_ms) / 1000,
            on_flush=on_flush,
            hold_when_unavailable=hold_when_unavailable,
        )

    def submit(self, actions: list[Action]) -> Future[None]:
        encoded = _Encoded.of(actions)
        return self._enqueue(encoded, len(encoded.ndjson))

    def write(self, actions: list[Action], timeout: float) -> None:
        """Submit a unit and wait until the ``_bulk`` request holding it has succeeded."""
        encoded = _Encoded.of(actions)
        self._answer_within(encoded, timeout, size=len(encoded.ndjson), or_raise=ElasticsearchUnavailable(
            f"no answer from Elasticsearch within {timeout:g} s"))

    def _send(self, units: list[Unit[_Encoded]]) -> None:
        """Send one _bulk request and settle its units' futures, or hold them for another try."""
        started = time.monotonic()
        try:
            # Bytes go out as they are (the client's NDJSON serializer forwards them), though typed as mappings.
            body: Any = b"".join(unit.item.ndjson for unit in units)
            response = self.es.bulk(operations=body)
        except (TransportError, ApiError) as exc:
            if self.hold_when_unavailable and not self._closed:
                logger.warning("Elasticsearch unavailable; holding %d records: %s", len(units), exc)
                self._hold(units)
                return
            error = ElasticsearchUnavailable(f"_bulk of {len(units)} documents failed: {exc}")
            for unit in units:
                unit.future.set_exception(error)
            return
        except Exception as exc:  # the flusher thread must survive anything and still answer every caller
            logger.exception("unexpected error in _bulk")
            for unit in units:
                unit.future.set_exception(IndexingError(f"_bulk failed unexpectedly: {exc!r}"))
            return
        self._backoff = 0.0
        if self.on_flush is not None:
            self.on_flush(len(units), time.monotonic() - started)
        items = iter(response["items"])
        for unit in units:
            errors = [_item_error(next(items)) for _ in range(unit.item.actions)]
            first = next((e for e in errors if e is not None), None)
            if first is None:
                unit.future.set_result(None)
            else:
                unit.future.set_exception(first)

    def _hold(self, units: list[Unit[_Encoded]]) -> None:
        """Put a failed request's units back in front and wait before trying again (the backoff doubles)."""
        self._backoff = min(max(2 * self._backoff, HOLD_BACKOFF_MIN), HOLD_BACKOFF_MAX)
        for dropped in self._put_back(units, keep=self.hold_when_unavailable, wait=self._backoff):
            dropped.future.set_exception(ElasticsearchUnavailable("dropped: too many records held"))


def _item_error(item: dict[str, Any]) -> IndexingError | None:
    result = next(iter(item.values()))
    status = int(result.get("status", 200))
    if status < 300 or status == CONFLICT:
        return None
    error = result.get("error", {})
    message = f"{result.get('_id')}: {error.get('type', 'error')}: {error.get('reason', status)}"
    if status in BACKPRESSURE_STATUSES:
        return ElasticsearchUnavailable(message)
    return DocumentRejected(message)
