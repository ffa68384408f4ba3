"""readq's one settings object: every tunable, its default and its unit.

Values come from ``READQ_*`` environment variables, then a ``.env`` file in the working directory, then the
defaults below. Nothing else in readq reads the environment.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="READQ_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    # Services
    redis_url: str = "redis://127.0.0.1:6379/0"
    es_url: str = "http://127.0.0.1:9200"
    es_api_key: SecretStr | None = None
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_ca_certs: str | None = None
    es_verify_certs: bool = True
    es_request_timeout: float = 30.0  # s
    index_prefix: str = Field(default="readq", pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    index_shards: int = 1
    index_replicas: int = 0

    # Broker and reliability
    visibility_timeout: int = 3600  # s; longer than any task, retry countdown or ETA
    fetch_concurrency: int = 256  # threads per worker: pages under way (fetching, extracting, indexing)
    extract_concurrency: int | None = None  # extraction processes per worker; None = one per core
    extract_pages_per_process: int = 1000  # an extraction process is replaced after this many pages
    max_retries: int = 3
    index_max_retries: int = 30  # an Elasticsearch outage is retried longer: up to ~30 min at 60 s backoff
    sweep_interval: int = 60  # s between checks for URLs whose task message was lost (worker killed); 0: off
    max_redeliveries: int = 2  # a task whose worker died more often than this fails as "worker_lost"
    extract_memory_limit_mb: int = 1024  # resident size that ends an extraction process (and fails its page); 0: none
    retry_backoff_max: int = 600  # s
    extract_time_limit: float = 60.0  # s, hard limit per page: its extraction process is replaced past it
    batch_ttl: int = 7 * 86400  # s batch counters are kept after their last change

    # Fetching
    user_agent: str = "readq/0.1 (+https://github.com/readq/readq)"
    connect_timeout: float = 5.0  # s
    read_timeout: float = 20.0  # s between two bytes
    fetch_deadline: float = 60.0  # s for the whole response, redirects included
    max_redirects: int = 5
    max_body_bytes: int = 5 * 1024 * 1024  # decompressed
    allow_private_networks: bool = False  # shorthand for local trials: all non-public space but metadata addresses
    # CIDRs readq may fetch from although not public, e.g. "127.0.0.0/8,10.1.0.0/16"; a cloud metadata address
    # only if a network here lies inside its metadata range (e.g. "169.254.169.254/32")
    allowed_networks: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = ()
    # HTTP answers that mean "later" (retried with backoff, as every 5xx is) and, of the retried ones, those that
    # also pause the whole host for their Retry-After (or four request intervals); comma-separated
    retry_http_codes: Annotated[frozenset[int], NoDecode] = frozenset({408, 429})
    pushback_http_codes: Annotated[frozenset[int], NoDecode] = frozenset({429, 503})

    # Politeness, shared by every worker through Redis
    obey_robots: bool = True
    robots_ttl: int = 86400  # s a host's robots.txt is cached
    robots_retry_after: int = 300  # s before asking again when robots.txt answered 5xx or timed out
    host_requests_per_second: float = 1.0  # per host, unless Crawl-delay asks for less
    host_max_concurrency: int = 2  # requests in flight per host, fleet-wide
    host_wait_in_place: float = 2.0  # s: a host's slot this close is waited for on the thread, later ones deferred
    host_rate_limits: dict[str, float] = {}  # host glob -> requests/s, e.g. {"*.example.com": 5}
    host_error_threshold: int = 3  # consecutive connection errors before a host is backed off
    host_backoff_max: int = 600  # s, longest pause imposed on a host

    # Never twice without reason
    refetch_after: int = 86400  # s before a URL already queued or indexed may be queued again
    skip_duplicates: bool = False  # don't index a page whose text duplicates an indexed one
    duplicate_similarity: float = 0.9  # estimated Jaccard similarity of word 3-grams that counts as duplicate
    duplicate_window: int = 86400  # s: near-duplicates are looked for among the pages indexed this recently

    # Extraction
    min_text_chars: int = 200  # less readable text than this is "no readable content"
    min_article_text_chars: int = 50  # ... on a page that declares itself an article (a photo or video post)

    # Indexing (group commit)
    bulk_max_docs: int = 200  # flush when this many documents wait
    bulk_max_bytes: int = 10 * 1024 * 1024
    bulk_flush_ms: int = 250  # or when the oldest has waited this long
    status_flush_ms: int = 1000  # state records are written in bulk at least this often

    # Producer
    publish_batch_size: int = 1000  # messages per Redis pipeline
    seed_max_sitemaps: int = Field(default=100, ge=1)  # sitemap documents fetched per --sitemap seed
    seed_max_urls: int = Field(default=100_000, ge=1)  # page URLs taken from one --sitemap or --feed seed
    seed_max_seconds: float = Field(default=300.0, gt=0)  # s to read one seed, polite waits included

    # Observability
    # Celery task events cost a Redis PUBLISH per task state; Flower, while it runs, asks workers for them every
    # 5 s anyway (its --enable_events default), so by default they flow only while someone watches. True: always.
    task_events: bool = False
    metrics_port: int = 9808  # fetch, extract and index workers serve /metrics on this port, +1 and +2; 0: off
    metrics_address: str = "127.0.0.1"  # where the exporters listen; unauthenticated, so never public by default
    log_format: str = Field(default="auto", pattern="^(auto|json|text)$")  # auto: JSON unless on a terminal
    kibana_url: str | None = None  # where `readq setup` imports the saved objects (dashboard, data views)
    kibana_username: str | None = None
    kibana_password: SecretStr | None = None

    # Flower
    flower_port: int = 5555
    flower_basic_auth: SecretStr | None = None  # "user:password"

    @field_validator("allowed_networks", "retry_http_codes", "pushback_http_codes", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _pushback_codes_are_retried(self) -> Settings:
        # The host is paused on the way to the retry: a code that is not retried never gets there.
        retried = self.retry_http_codes
        unretried = sorted(code for code in self.pushback_http_codes if code < 500 and code not in retried)
        if unretried:
            raise ValueError(f"pushback_http_codes {unretried} must be 5xx or in retry_http_codes")
        return self

    @property
    def redis_pool_size(self) -> int:
        """Connections a worker process's Redis clients may open: one per task thread, plus the consumer, events,
        control and readq's own background threads."""
        return self.fetch_concurrency + 10

    @property
    def extract_budget(self) -> float:
        """Seconds the extractor gives one page before it stops it as ``failed: timeout``: 10 s under the hard
        limit, so that a page stops itself and its process need not be replaced."""
        return max(0.5, self.extract_time_limit - 10)

    @property
    def pages_alias(self) -> str:
        return f"{self.index_prefix}-pages"

    @property
    def status_alias(self) -> str:
        return f"{self.index_prefix}-status"

    @property
    def redis_prefix(self) -> str:
        return f"{self.index_prefix}:"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
