"""Session fixtures: one Redis namespace, one Elasticsearch (noida-db unless READQ_TEST_ES_URL names a real one),
one local web site, and readq's real workers; everything namespaced by a fresh index prefix.

The suite is hermetic: no ``READQ_*`` variable of the shell and no ``.env`` file reaches a test, or a process a
test starts (those run in an empty directory, with the settings they are given); a test that wants one sets it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from config.settings import Settings, get_settings
from readq import Client
from readq._services import NoidaElasticsearch, wait_for
from tests.support.httpserver import LocalSite
from tests.support.services import WorkerProcess, drop_indices

TEST_REDIS_URL = os.environ.get("READQ_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_ES_URL = os.environ.get("READQ_TEST_ES_URL")


def pytest_configure(config: pytest.Config) -> None:
    """Before any test module (and so any readq module) is imported."""
    for name in [name for name in os.environ if name.startswith("READQ_")]:
        del os.environ[name]
    Settings.model_config["env_file"] = None
    get_settings.cache_clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def es_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NoidaElasticsearch | None]:
    """The noida-db stand-in this session started, or None when READQ_TEST_ES_URL names a real cluster."""
    if TEST_ES_URL:
        yield None
        return
    server = NoidaElasticsearch(tmp_path_factory.mktemp("noida")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def es_url(es_server: NoidaElasticsearch | None) -> str:
    return es_server.url if es_server is not None else str(TEST_ES_URL)


@pytest.fixture(scope="session")
def namespace() -> Iterator[str]:
    """The session's index prefix. Every Redis key of it and of the namespaces tests derive from it
    (``{prefix}-crawl``, ``{prefix}-f1a2b3``...) is removed at the end, whichever fixtures the session used and
    whatever their own clean-up managed."""
    prefix = f"readqtest-{uuid.uuid4().hex[:8]}"
    yield prefix
    client = redis.Redis.from_url(TEST_REDIS_URL)
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        batch.append(key)
        if len(batch) == 1000:
            client.delete(*batch)
            batch = []
    if batch:
        client.delete(*batch)


@pytest.fixture(scope="session")
def settings(es_url: str, namespace: str) -> Settings:
    redis.Redis.from_url(TEST_REDIS_URL).ping()
    return Settings(
        redis_url=TEST_REDIS_URL,
        es_url=es_url,
        index_prefix=namespace,
        allow_private_networks=True,  # the test site is on 127.0.0.1; the guard has tests of its own
        visibility_timeout=60,
        max_retries=2,
        retry_backoff_max=2,
        bulk_flush_ms=100,
        status_flush_ms=200,
        fetch_concurrency=16,
        extract_concurrency=2,
        read_timeout=5,
        fetch_deadline=10,
        host_requests_per_second=200,  # politeness has tests of its own; here it would only slow things down
        host_max_concurrency=16,
        metrics_port=0,  # several worker sets run at once here; the metrics test picks its own ports
    )


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[Client]:
    with Client(settings) as readq_client:
        readq_client.install_templates()
        yield readq_client
        drop_indices(readq_client)  # its Redis keys go with the namespace


@pytest.fixture(scope="session")
def site() -> Iterator[LocalSite]:
    with LocalSite() as test_site:
        yield test_site


@pytest.fixture(scope="session")
def workers(settings: Settings, client: Client, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """A readq worker running against the test namespace."""
    log_path = tmp_path_factory.mktemp("logs") / "worker.log"
    process = WorkerProcess(settings, log_path).start()
    try:
        wait_for(lambda: len(client.workers(timeout=0.5)) >= 1, "readq worker", 90)
        yield client
    finally:
        process.stop()
        print(f"worker log: {log_path}")


@pytest.fixture
def fixtures_dir() -> Path:
    return Path(__file__).resolve().parent / "fixtures" / "pages"
