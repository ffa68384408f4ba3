"""``Client``: readq as scripts use it: queue URLs, follow batches, read and search documents."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from elasticsearch import ApiError, NotFoundError, TransportError

from config.celery import create_app
from config.settings import Settings, get_settings
from readq import _producer
from readq._producer import BatchReceipt
from workers.elastic import Migration, index_versions, install_templates, mapping_version, migrate
from workers.errors import ServiceUnavailable
from workers.kibana import import_saved_objects
from workers.languages import query_languages
from workers.progress import BatchProgress
from workers.queues import queue_depths
from workers.runtime import Runtime
from workers.search_query import (
    SearchRequest,
    SearchResults,
    build_search,
    collapsed_groups,
    parse_query,
    read_results,
    read_similar_counts,
    similar_count_search,
)
from workers.urls import normalize_url, url_id

PAGE_SIZE = 500  # status records per search request when listing failures
DERIVED_FIELDS = ["i18n", "duplicate_group"]  # filled by the index's ingest pipeline, not part of the document


class Client:
    """One connection set to Redis, Elasticsearch and the broker. Use as a context manager, or call close()."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.runtime = Runtime(self.settings)
        self._celery: Celery | None = None
        self._pages_migrated: bool | None = None
        self._indexed_languages: list[str] | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def celery(self) -> Celery:
        if self._celery is None:
            self._celery = create_app(self.settings)
        return self._celery

    def close(self) -> None:
        self.runtime.close()

    def check_redis(self) -> None:
        try:
            self.runtime.redis.ping()
        except redis.RedisError as exc:
            raise ServiceUnavailable("Redis", self.settings.redis_url, str(exc)) from exc

    def check(self) -> None:
        """Raise :class:`ServiceUnavailable` naming the service that does not answer."""
        self.check_redis()
        try:
            self.runtime.es.info()
        except (TransportError, ApiError) as exc:
            raise ServiceUnavailable("Elasticsearch", self.settings.es_url, str(exc)) from exc

    def install_templates(self) -> list[str]:
        return install_templates(self.runtime.es, self.settings)

    def migrate(self, on_step: Callable[[str, str], None] | None = None) -> Migration | None:
        """Move the pages into an index of the current mapping behind the alias (see :func:`migrate`)."""
        self._pages_migrated = None
        return migrate(self.runtime.es, self.settings, on_step=on_step)

    def import_kibana_objects(self, kibana_url: str) -> int:
        """Import the dashboard, data views and saved search into Kibana; return how many objects it took."""
        settings = self.settings
        auth = ((settings.kibana_username, settings.kibana_password.get_secret_value())
                if settings.kibana_username and settings.kibana_password else None)
        path = Path(str(resources.files("config").joinpath("kibana", "readq.ndjson")))
        result = import_saved_objects(kibana_url, path, prefix=settings.index_prefix, auth=auth)
        return int(result.get("successCount", 0))

    def enqueue(self, urls: Iterable[str], batch: str | None = None, *, force: bool = False) -> BatchReceipt:
        """Queue URLs; ``force`` queues even those queued or indexed within READQ_REFETCH_AFTER."""
        self.check()
        return _producer.enqueue(urls, batch, celery=self.celery, recorder=self.runtime.recorder,
                                 seen=self.runtime.seen, chunk_size=self.settings.publish_batch_size,
                                 status_timeout=self.settings.es_request_timeout, force=force)

    def make_searchable(self) -> None:
        """Refresh the indices now rather than within the next second, e.g. after waiting for a batch."""
        self.runtime.es.indices.refresh(index=f"{self.settings.pages_alias},{self.settings.status_alias}")

    def progress(self, batch: str) -> BatchProgress | None:
        return self.runtime.progress.progress(batch)

    def queue_depths(self) -> dict[str, int]:
        return queue_depths(self.runtime.redis, self.settings.redis_prefix)

    def workers(self, timeout: float = 1.0) -> dict[str, list[str]]:
        """Workers that answered, with the queues each consumes."""
        replies = self.celery.control.inspect(timeout=timeout).active_queues() or {}
        return {name: sorted(q["name"] for q in queues) for name, queues in sorted(replies.items())}

    def elasticsearch_state(self) -> str:
        try:
            self.runtime.es.info()
        except (TransportError, ApiError) as exc:
            return f"unreachable at {self.settings.es_url}: {exc}"
        return "ok"

    def status(self, batch: str | None = None, failures: int = 10) -> dict[str, Any]:
        """Everything here comes from Redis and the workers, so it works while Elasticsearch is down; the
        ``elasticsearch`` entry says whether it is."""
        batches = [batch] if batch else self.runtime.progress.recent_batches(5)
        return {
            "elasticsearch": self.elasticsearch_state(),
            "queues": self.queue_depths(),
            "workers": self.workers(),
            "batches": [p.to_dict() for b in batches if (p := self.progress(b)) is not None],
            "recent_failures": [
                f for f in self.runtime.progress.recent_failures(failures * 5) if batch in (None, f.get("batch"))
            ][:failures],
        }

    def failed(self, *, batch: str | None = None, reason: str | None = None,
               limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Status records of failed URLs, optionally of one batch or reason, in URL order."""
        filters = [{"term": {"state": "failed"}}]
        filters += [{"term": {field: value}} for field, value in (("batch", batch), ("reason", reason)) if value]
        after: list[Any] | None = None
        returned = 0
        while limit is None or returned < limit:
            page_size = min(PAGE_SIZE, limit - returned) if limit is not None else PAGE_SIZE
            response = self.runtime.es.search(index=self.settings.status_alias, query={"bool": {"filter": filters}},
                                              size=page_size, sort=[{"url": "asc"}], search_after=after)
            hits = response["hits"]["hits"]
            for hit in hits:
                yield dict(hit["_source"])
            returned += len(hits)
            if len(hits) < page_size:
                return
            after = hits[-1]["sort"]

    def retry(self, *, batch: str | None = None, reason: str | None = None) -> list[BatchReceipt]:
        """Queue failed URLs again, each into the batch it failed in."""
        self.make_searchable()
        by_batch: dict[str, list[str]] = {}
        for record in self.failed(batch=batch, reason=reason):
            by_batch.setdefault(record["batch"], []).append(record["url"])
        return [self.enqueue(urls, failed_batch, force=True) for failed_batch, urls in sorted(by_batch.items())]

    def get(self, url: str) -> dict[str, Any] | None:
        try:
            found = self.runtime.es.get(index=self.settings.pages_alias, id=url_id(normalize_url(url)),
                                        source_excludes=DERIVED_FIELDS)
        except NotFoundError:
            return None
        return dict(found["_source"])

    def url_status(self, url: str) -> dict[str, Any] | None:
        try:
            found = self.runtime.es.get(index=self.settings.status_alias, id=url_id(normalize_url(url)))
        except NotFoundError:
            return None
        return dict(found["_source"])

    def pages_migrated(self) -> bool:
        """Whether every pages index has the current mapping; until ``readq setup --migrate`` an older one lacks
        the duplicate group (so search cannot collapse) and the language fields (so it finds exact words only)."""
        if self._pages_migrated is None:
            versions = index_versions(self.runtime.es, self.settings.pages_alias)
            self._pages_migrated = all(v >= mapping_version("pages") for v in versions.values())
        return self._pages_migrated

    def indexed_languages(self) -> list[str]:
        """The languages of the indexed pages (asked once per client): what "all languages" searches."""
        if self._indexed_languages is None:
            response = self.runtime.es.search(index=self.settings.pages_alias, size=0,
                                              aggs={"langs": {"terms": {"field": "lang", "size": 500}}})
            self._indexed_languages = [b["key"] for b in response["aggregations"]["langs"]["buckets"]]
        return self._indexed_languages

    def search(self, query: str, *, size: int = 10, offset: int = 0, domain: str | None = None,
               lang: str | None = None, since: date | None = None, until: date | None = None,
               collapse: bool = True) -> SearchResults:
        """Ranked hits for ``query`` (simple-query-string syntax plus ``title:``, ``author:``, ``site:``).

        ``lang`` is the query's language (an ISO 639-1 code, or "all"); without it the language is detected from
        the query, and every language is searched when that guess is unsure. ``since``/``until`` bound the
        publication date (inclusive); ``offset`` pages; near-duplicates fold into one hit unless ``collapse`` is
        False.
        """
        languages = query_languages(parse_query(query).language_text, lang, self.indexed_languages())
        request = SearchRequest(query=query, languages=languages, size=size, offset=offset, domain=domain,
                                since=since, until=until, collapse=collapse and self.pages_migrated())
        es, alias = self.runtime.es, self.settings.pages_alias
        response = es.search(index=alias, **build_search(request)).body
        groups = collapsed_groups(response) if request.collapse else []
        similar = read_similar_counts(es.search(index=alias, **similar_count_search(groups)).body) if groups else {}
        return read_results(response, request, similar)
