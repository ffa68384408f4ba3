"""The engines and clients a process shares, each built on first use from one ``Settings``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import redis
from elasticsearch import Elasticsearch

from config.settings import Settings
from workers.elastic import make_client
from workers.extractor import Extractor
from workers.fetcher import Fetcher
from workers.indexer import BulkIndexer
from workers.pagestore import PageStore
from workers.progress import ProgressTracker
from workers.states import StateRecorder


@dataclass
class Runtime:
    settings: Settings

    @cached_property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.settings.redis_url, health_check_interval=30)

    @cached_property
    def es(self) -> Elasticsearch:
        return make_client(self.settings)

    @cached_property
    def fetcher(self) -> Fetcher:
        return Fetcher.from_settings(self.settings)

    @cached_property
    def extractor(self) -> Extractor:
        return Extractor.from_settings(self.settings)

    @cached_property
    def pages(self) -> PageStore:
        return PageStore.from_settings(self.settings, self.redis)

    @cached_property
    def progress(self) -> ProgressTracker:
        return ProgressTracker.from_settings(self.settings, self.redis)

    @cached_property
    def page_indexer(self) -> BulkIndexer:
        return BulkIndexer.from_settings(self.settings, self.es)

    @cached_property
    def recorder(self) -> StateRecorder:
        status_writer = BulkIndexer.from_settings(self.settings, self.es, flush_ms=self.settings.status_flush_ms)
        return StateRecorder(progress=self.progress, status_writer=status_writer,
                             status_alias=self.settings.status_alias)

    def close(self) -> None:
        """Flush what the bulk indexers still hold and stop their threads."""
        for name in ("page_indexer", "recorder"):
            if name in self.__dict__:
                self.__dict__[name].close()
