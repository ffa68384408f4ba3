"""``Client``: readq as scripts use it: queue URLs, follow batches, read and search documents."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
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
from workers.elastic import install_templates
from workers.errors import IndexMissing, ServiceUnavailable
from workers.kibana import import_saved_objects
from workers.masking import mask_secrets
from workers.progress import BatchProgress
from workers.queues import queue_depths
from workers.runtime import Runtime
from workers.urls import normalize_url, url_id

SNIPPET_CHARS = 180
PAGE_SIZE = 500  # status records per search request when listing failures


@dataclass(frozen=True)
class SearchHit:
    url: str
    title: str | None
    score: float
    snippet: str
    domain: str | None
    lang: str | None
    published: str | None
    duplicate_of: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Client:
    """One connection set to Redis, Elasticsearch and the broker. Use as a context manager, or call close()."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.runtime = Runtime(self.settings)
        self._celery: Celery | None = None

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
            return mask_secrets(f"unreachable at {self.settings.es_url}: {exc}")
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
            response = self._search(index=self.settings.status_alias, query={"bool": {"filter": filters}},
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
            found = self.runtime.es.get(index=self.settings.pages_alias, id=url_id(normalize_url(url)))
        except NotFoundError:
            return None
        return dict(found["_source"])

    def url_status(self, url: str) -> dict[str, Any] | None:
        try:
            found = self.runtime.es.get(index=self.settings.status_alias, id=url_id(normalize_url(url)))
        except NotFoundError:
            return None
        return dict(found["_source"])

    def search(self, query: str, *, size: int = 10, domain: str | None = None,
               lang: str | None = None) -> list[SearchHit]:
        filters = [{"term": {field: value}} for field, value in (("domain", domain), ("lang", lang)) if value]
        response = self._search(
            index=self.settings.pages_alias,
            size=size,
            query={"bool": {"must": [{"multi_match": {"query": query, "fields": ["title^3", "description^2",
                                                                                 "text"]}}],
                            "filter": filters}},
            highlight={"fields": {"text": {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1}},
                       "pre_tags": ["**"], "post_tags": ["**"]},
            source_excludes=["text", "minhash", "minhash_bands"],
        )
        return [_hit(raw) for raw in response["hits"]["hits"]]

    def _search(self, *, index: str, **request: Any) -> Any:
        try:
            return self.runtime.es.search(index=index, **request)
        except NotFoundError as exc:
            raise IndexMissing(f"Elasticsearch has no index {index!r} (error: {exc.message}): run `readq setup` "
                               f"with the same READQ_INDEX_PREFIX as the workers") from exc


def _hit(raw: dict[str, Any]) -> SearchHit:
    source = raw["_source"]
    fragments = raw.get("highlight", {}).get("text") or [source.get("description") or ""]
    return SearchHit(
        url=source["url"], title=source.get("title"), score=float(raw["_score"] or 0.0),
        snippet=" ".join(fragments[0].split())[: SNIPPET_CHARS * 2], domain=source.get("domain"),
        lang=source.get("lang"), published=source.get("published"), duplicate_of=source.get("duplicate_of"),
    )
