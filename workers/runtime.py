"""The engines and clients a process shares, each built on first use from one ``Settings``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import redis
from elasticsearch import Elasticsearch

from config.settings import Settings
from workers import metrics
from workers.extraction.pool import ExtractionPool
from workers.fetching.fetcher import Fetcher
from workers.fetching.policy import PoliteFetcher
from workers.fetching.politeness import HostGate
from workers.fetching.robots import RobotsPolicy
from workers.indexing.dedup import DuplicateFinder
from workers.indexing.elastic import make_client
from workers.indexing.indexer import BulkIndexer
from workers.indexing.previous import PreviousVersions
from workers.state.progress import GroupedMoves, ProgressTracker
from workers.state.recorder import StateRecorder
from workers.state.retrylog import RetryLog
from workers.state.seen import SeenSet

STATUS_RECORDS_HELD = 100_000  # status records a process keeps while Elasticsearch is down (a few MB)


@dataclass
class Runtime:
    settings: Settings

    @cached_property
    def redis(self) -> redis.Redis:
        # redis-py caps a pool at 100 connections; a fetch worker may run more threads than that.
        return redis.Redis.from_url(self.settings.redis_url, health_check_interval=30,
                                    max_connections=self.settings.redis_pool_size)

    @cached_property
    def es(self) -> Elasticsearch:
        return make_client(self.settings)

    @cached_property
    def fetcher(self) -> Fetcher:
        return Fetcher.from_settings(self.settings)

    @cached_property
    def extraction(self) -> ExtractionPool:
        return ExtractionPool.from_settings(self.settings)

    @cached_property
    def progress(self) -> ProgressTracker:
        return ProgressTracker.from_settings(self.settings, self.redis)

    @cached_property
    def seen(self) -> SeenSet:
        return SeenSet.from_settings(self.settings, self.redis)

    @cached_property
    def retries(self) -> RetryLog:
        return RetryLog.from_settings(self.settings, self.redis)

    @cached_property
    def robots(self) -> RobotsPolicy:
        return RobotsPolicy.from_settings(self.settings, self.redis, self.fetcher)

    @cached_property
    def gate(self) -> HostGate:
        return HostGate.from_settings(self.settings, self.redis)

    @cached_property
    def polite(self) -> PoliteFetcher:
        return PoliteFetcher(fetcher=self.fetcher, gate=self.gate,
                             robots=self.robots if self.settings.obey_robots else None,
                             max_defer=self.settings.visibility_timeout / 2,
                             wait_in_place=self.settings.host_wait_in_place,
                             previous=self.previous_versions.lookup,
                             pushback_http_codes=self.settings.pushback_http_codes)

    @cached_property
    def previous_versions(self) -> PreviousVersions:
        return PreviousVersions.from_settings(self.settings, self.es)

    @cached_property
    def page_indexer(self) -> BulkIndexer:
        return BulkIndexer.from_settings(self.settings, self.es, on_flush=metrics.observe_bulk)

    @cached_property
    def duplicates(self) -> DuplicateFinder:
        return DuplicateFinder.from_settings(self.settings, self.es, self.redis)

    @cached_property
    def recorder(self) -> StateRecorder:
        status_writer = BulkIndexer.from_settings(self.settings, self.es, flush_ms=self.settings.status_flush_ms,
                                                  hold_when_unavailable=STATUS_RECORDS_HELD)
        return StateRecorder(progress=self.progress, moves=GroupedMoves(self.progress), status_writer=status_writer,
                             seen=self.seen, status_alias=self.settings.status_alias)

    def close(self) -> None:
        """Stop the extraction processes, flush what the group-commit writers still hold and stop their threads."""
        for name in ("extraction", "previous_versions", "duplicates", "page_indexer", "recorder", "gate"):
            if name in self.__dict__:
                self.__dict__[name].close()
