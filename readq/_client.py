"""``Client``: readq as scripts use it: queue URLs, follow batches, read and search documents."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from elasticsearch import ApiError, BadRequestError, ConnectionTimeout, NotFoundError, TransportError
from elasticsearch import ConnectionError as ESConnectionError

from config.celery import create_app
from config.settings import Settings, get_settings
from readq import _producer
from readq._kibana import import_saved_objects
from readq._producer import BatchReceipt
from workers.errors import IndexMissing, ServiceUnavailable
from workers.extraction.languages import query_languages
from workers.indexing.elastic import (
    PAGES_FEATURE_VERSIONS,
    Migration,
    index_versions,
    install_templates,
    mapping_version,
    migrate,
)
from workers.indexing.query import (
    SearchQueryError,
    SearchRequest,
    SearchResults,
    build_search,
    collapsed_groups,
    parse_query,
    read_results,
    read_similar_counts,
    similar_count_search,
)
from workers.masking import mask_secrets
from workers.runtime import Runtime
from workers.state.failures import is_permanent
from workers.state.progress import BatchProgress
from workers.state.queues import queue_depths
from workers.state.retrylog import PendingRetry, RetryLog
from workers.state.seen import SeenSet
from workers.times import iso_time
from workers.urls import normalize_url, url_id

PAGE_SIZE = 500  # status records per search request when listing failures; documents per export page
PIT_KEEP_ALIVE = "2m"  # how long Elasticsearch keeps an export's point in time between two pages
PURGE_CHUNK = 1000  # Redis entries removed per round trip


@dataclass(frozen=True)
class Document:
    """A stored page as users see it: the extracted article and where it came from, without readq's internal
    fields (MinHash signature, conditional-request validators)."""

    url: str
    final_url: str | None
    canonical_url: str | None
    domain: str | None
    title: str | None
    text: str
    description: str | None
    author: str | None
    published: str | None
    lang: str | None
    site_name: str | None
    fetched_at: str | None
    content_hash: str | None
    word_count: int | None
    http_status: int | None
    batch: str | None
    duplicate_of: str | None

    @classmethod
    def from_source(cls, source: dict[str, Any]) -> Document:
        values: dict[str, Any] = {field.name: source.get(field.name) for field in fields(cls)}
        return cls(**{**values, "text": values["text"] or ""})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DOCUMENT_FIELDS = [field.name for field in fields(Document)]


class Client:
    """One connection set to Redis, Elasticsearch and the broker. Use as a context manager, or call close()."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.runtime = Runtime(self.settings)
        self._celery: Celery | None = None
        self._pages_version: int | None = None
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
        self._pages_version = None
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
        """Queue URLs; ``force`` queues even those queued or indexed within READQ_REFETCH_AFTER. Only Redis must
        answer: URLs queued while Elasticsearch is away wait for it in the index stage."""
        self.check_redis()
        return _producer.enqueue(urls, batch, celery=self.celery, seen=self.runtime.seen,
                                 progress=self.runtime.progress, chunk_size=self.settings.publish_batch_size,
                                 force=force)

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
            return mask_secrets(f"unreachable at {self.settings.es_url}: {exc}")
        return "ok"

    def status(self, batch: str | None = None, failures: int = 10) -> dict[str, Any]:
        """Everything here comes from Redis and the workers, so it works while Elasticsearch is down; the
        ``elasticsearch`` entry says whether it is."""
        batches = [batch] if batch else self.runtime.progress.recent_batches(5)
        retrying, soonest = self.runtime.retries.waiting(failures)
        return {
            "elasticsearch": self.elasticsearch_state(),
            "queues": self.queue_depths(),
            "workers": self.workers(),
            "batches": [progress_dict(p) for b in batches if (p := self.progress(b)) is not None],
            "retrying": {"count": retrying, "soonest": [r.to_dict() for r in soonest
                                                        if batch in (None, r.batch)]},
            "recent_failures": self.recent_failures(batch, failures),
        }

    def recent_failures(self, batch: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
        """The latest failure of each recently failed URL (a URL retried and failed again is listed once)."""
        latest: dict[str, dict[str, Any]] = {}
        for failure in self.runtime.progress.recent_failures(limit * 10):
            if batch in (None, failure.get("batch")) and failure["url"] not in latest:
                at = failure.get("at")
                latest[failure["url"]] = {**failure, "at": iso_time(at) if isinstance(at, int | float) else at}
        return list(latest.values())[:limit]

    def failed(self, *, batch: str | None = None, reason: str | None = None,
               limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Status records of failed URLs, optionally of one batch or reason, in URL order."""
        filters = [{"term": {"state": "failed"}}]
        filters += [{"term": {field: value}} for field, value in (("batch", batch), ("reason", reason)) if value]
        after: list[Any] | None = None
        returned = 0
        while limit is None or returned < limit:
            page_size = min(PAGE_SIZE, limit - returned) if limit is not None else PAGE_SIZE
            response = self._search(index=self.settings.status_alias, query={"bool": {"filter": filters}},
                                    size=page_size, sort=[{"url": "asc"}], search_after=after)
            hits = response["hits"]["hits"]
            for hit in hits:
                yield dict(hit["_source"])
            returned += len(hits)
            if len(hits) < page_size:
                return
            after = hits[-1]["sort"]

    def retry(self, *, batch: str | None = None, reason: str | None = None,
              include_permanent: bool = False) -> list[BatchReceipt]:
        """Queue failed URLs again, each into the batch it failed in; permanent failures (a 404, a rejected
        document...) only with ``include_permanent``."""
        self.make_searchable()
        by_batch: dict[str, list[str]] = {}
        for record in self.failed(batch=batch, reason=reason):
            if include_permanent or not is_permanent(record, self.settings.retry_http_codes):
                by_batch.setdefault(record["batch"], []).append(record["url"])
        return [self.enqueue(urls, failed_batch, force=True) for failed_batch, urls in sorted(by_batch.items())]

    def get(self, url: str) -> Document | None:
        """The stored document of ``url``, found by the URL it was queued as or by its canonical URL.

        Raises :class:`~workers.errors.RefusedURL` when ``url`` is not a URL readq accepts."""
        normalized = normalize_url(url)
        try:
            found = self.runtime.es.get(index=self.settings.pages_alias, id=url_id(normalized),
                                        source_includes=DOCUMENT_FIELDS)
        except NotFoundError:
            response = self.runtime.es.search(
                index=self.settings.pages_alias, size=1, source_includes=DOCUMENT_FIELDS,
                query={"bool": {"should": [{"term": {"canonical_url": normalized}}, {"term": {"canonical_url": url}}],
                                "minimum_should_match": 1}},
                sort=[{"fetched_at": "desc"}])
            hits = response["hits"]["hits"]
            return Document.from_source(hits[0]["_source"]) if hits else None
        return Document.from_source(found["_source"])

    def url_status(self, url: str) -> dict[str, Any] | None:
        """The URL's state: ``queued`` (and when) while it is in flight, from the seen-set (in-flight URLs have no
        status record); else its final state from ``{prefix}-status``."""
        normalized = normalize_url(url)
        doc_id = url_id(normalized)
        queued_at = self.runtime.seen.queued_at(doc_id)
        try:
            record: dict[str, Any] | None = dict(
                self.runtime.es.get(index=self.settings.status_alias, id=doc_id)["_source"])
        except NotFoundError:
            record = None
        if queued_at is not None and (record is None or queued_at > _epoch(record.get("updated_at"))):
            return {"url": normalized, "state": "queued",
                    "updated_at": datetime.fromtimestamp(queued_at, UTC).isoformat(timespec="seconds")}
        return record

    def pending_retry(self, url: str) -> PendingRetry | None:
        """Why a URL still reads ``queued`` after an attempt: its last error and when the next attempt is due."""
        return self.runtime.retries.pending(url_id(normalize_url(url)))

    def robots_unavailable_until(self, url: str) -> float | None:
        """When readq asks again for the robots.txt of ``url``'s site, if it could not be read (5xx, timeout)."""
        return self.runtime.robots.unavailable_until(normalize_url(url))

    def export(self, *, batch: str | None = None, since: datetime | None = None) -> Iterator[Document]:
        """Every stored document (of ``batch``, fetched at or after ``since``), read through one point in time, so
        that documents indexed meanwhile neither appear twice nor shift the pages."""
        filters: list[dict[str, Any]] = [{"term": {"batch": batch}}] if batch else []
        if since is not None:
            filters.append({"range": {"fetched_at": {"gte": since.isoformat()}}})
        es = self.runtime.es
        pit = es.open_point_in_time(index=self.settings.pages_alias, keep_alive=PIT_KEEP_ALIVE)["id"]
        after: list[Any] | None = None
        try:
            while True:
                response = es.search(pit={"id": pit, "keep_alive": PIT_KEEP_ALIVE}, size=PAGE_SIZE,
                                     query={"bool": {"filter": filters}}, sort=[{"_shard_doc": "asc"}],
                                     search_after=after, source_includes=DOCUMENT_FIELDS)
                pit = response.get("pit_id", pit)
                hits = response["hits"]["hits"]
                for hit in hits:
                    yield Document.from_source(hit["_source"])
                if len(hits) < PAGE_SIZE:
                    return
                after = hits[-1]["sort"]
        finally:
            es.options(ignore_status=404).close_point_in_time(id=pit)

    def count_documents(self, batch: str) -> int:
        return int(self.runtime.es.count(index=self.settings.pages_alias, query={"term": {"batch": batch}})["count"])

    def purge(self, batch: str, *, progress: Callable[[str], None] | None = None) -> dict[str, int]:
        """Delete a batch: its documents, its status records and its state in Redis (progress, per-URL states,
        seen-set entries, pending retries, recent failures). Returns what was deleted, by kind."""
        say = progress or (lambda _message: None)
        es, settings = self.runtime.es, self.settings
        query = {"term": {"batch": batch}}
        say("deleting documents")
        documents = es.delete_by_query(index=settings.pages_alias, query=query, refresh=True, conflicts="proceed")
        say("deleting status records")
        records = es.delete_by_query(index=settings.status_alias, query=query, refresh=True, conflicts="proceed")
        say("deleting Redis state")
        urls = self._purge_redis(batch)
        return {"documents": int(documents.get("deleted", 0)), "status_records": int(records.get("deleted", 0)),
                "urls_forgotten": urls}

    def _purge_redis(self, batch: str) -> int:
        client, progress = self.runtime.redis, self.runtime.progress
        counters, url_states, batches = progress.keys(batch)
        forgotten = 0
        ids: list[str] = []
        for url_id_raw, _state in client.hscan_iter(url_states, count=PURGE_CHUNK):
            ids.append(url_id_raw.decode() if isinstance(url_id_raw, bytes) else str(url_id_raw))
            if len(ids) == PURGE_CHUNK:
                forgotten += self._forget(ids)
                ids = []
        forgotten += self._forget(ids)
        failures_key = f"{self.settings.redis_prefix}failures"
        with client.pipeline(transaction=False) as pipe:
            for raw in client.lrange(failures_key, 0, -1):
                entry = raw.decode() if isinstance(raw, bytes) else str(raw)
                if json.loads(entry).get("batch") == batch:
                    pipe.lrem(failures_key, 0, entry)
            pipe.delete(counters, url_states)
            pipe.zrem(batches, batch)
            pipe.execute()
        return forgotten

    def _forget(self, ids: list[str]) -> int:
        """Drop URLs from the seen-set (so they may be queued again) and from the pending retries."""
        if not ids:
            return 0
        with self.runtime.redis.pipeline(transaction=False) as pipe:
            seen = SeenSet(client=pipe, prefix=self.settings.redis_prefix, refetch_after=self.settings.refetch_after)
            retries = RetryLog(client=pipe, prefix=self.settings.redis_prefix)
            for doc_id in ids:
                seen.forget(doc_id)
                retries.clear(doc_id)
            pipe.execute()
        return len(ids)

    def pages_version(self) -> int:
        """The oldest mapping version among the pages indices (asked once per client): until ``readq setup
        --migrate`` an older index lacks the language fields (so search finds exact words only) and what
        :data:`PAGES_FEATURE_VERSIONS` names."""
        if self._pages_version is None:
            versions = index_versions(self.runtime.es, self.settings.pages_alias)
            self._pages_version = min(versions.values(), default=mapping_version("pages"))
        return self._pages_version

    def indexed_languages(self) -> list[str]:
        """The languages of the indexed pages (asked once per client): what "all languages" searches."""
        if self._indexed_languages is None:
            response = self._search(index=self.settings.pages_alias, size=0,
                                    aggs={"langs": {"terms": {"field": "lang", "size": 500}}})
            self._indexed_languages = [b["key"] for b in response["aggregations"]["langs"]["buckets"]]
        return self._indexed_languages

    def search(self, query: str, *, size: int = 10, offset: int = 0, domain: str | None = None,
               lang: str | None = None, since: date | None = None, until: date | None = None,
               collapse: bool = True) -> SearchResults:
        """Ranked hits for ``query`` (simple-query-string syntax plus ``title:``, ``author:``, ``site:``).

        ``lang`` is the query's language (an ISO 639-1 code, or "all"); without it the language is detected from
        the query among the indexed ones, and the likeliest few (or all) are searched when that guess is unsure.
        ``since``/``until`` bound the publication date (inclusive); ``offset`` pages; near-duplicates fold into
        one hit unless ``collapse`` is False.
        """
        languages = query_languages(parse_query(query).language_text, lang, self.indexed_languages())
        version = self.pages_version()
        request = SearchRequest(query=query, languages=languages, size=size, offset=offset, domain=domain,
                                since=since, until=until,
                                collapse=collapse and version >= PAGES_FEATURE_VERSIONS["collapse"],
                                compound_parts=version >= PAGES_FEATURE_VERSIONS["compound_parts"])
        alias = self.settings.pages_alias
        try:
            response = self._search(index=alias, **build_search(request)).body
        except BadRequestError as exc:  # a limit of the cluster's own, e.g. a smaller index.max_result_window
            raise SearchQueryError(f"Elasticsearch refused the search: {exc}") from exc
        groups = collapsed_groups(response) if request.collapse else []
        similar = read_similar_counts(self._search(index=alias, **similar_count_search(groups)).body) if groups else {}
        return read_results(response, request, similar)

    def _search(self, *, index: str, **request: Any) -> Any:
        try:
            return self.runtime.es.search(index=index, **request)
        except NotFoundError as exc:
            raise IndexMissing(f"Elasticsearch has no index {index!r} (error: {exc.message}): run `readq setup` "
                               f"with the same READQ_INDEX_PREFIX as the workers") from exc
        except (ESConnectionError, ConnectionTimeout) as exc:  # gone, or busy past the request timeout
            raise ServiceUnavailable("Elasticsearch", self.settings.es_url, str(exc)) from exc


def _epoch(iso: str | None) -> float:
    return datetime.fromisoformat(iso).timestamp() if iso else 0.0


def progress_dict(progress: BatchProgress) -> dict[str, Any]:
    """A batch's progress for JSON, with its times in ISO 8601."""
    data = progress.to_dict()
    for name in ("created", "updated"):
        if isinstance(data.get(name), int | float):
            data[name] = iso_time(data[name])
    return data
