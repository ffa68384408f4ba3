from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from config.celery import TASK_ROUTES, Queue, celery_config
from config.settings import Settings


def test_defaults_are_safe() -> None:
    settings = Settings(_env_file=None)
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.es_url == "http://127.0.0.1:9200"
    assert settings.allow_private_networks is False
    assert (settings.pages_alias, settings.status_alias) == ("readq-pages", "readq-status")


def test_environment_and_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("READQ_INDEX_PREFIX=fromfile\nREADQ_VISIBILITY_TIMEOUT=99\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(Settings.model_config, "env_file", ".env")  # the suite ignores .env files otherwise
    monkeypatch.setenv("READQ_VISIBILITY_TIMEOUT", "120")
    monkeypatch.setenv("READQ_ALLOW_PRIVATE_NETWORKS", "true")

    settings = Settings()

    assert settings.index_prefix == "fromfile"
    assert settings.visibility_timeout == 120  # the environment wins over .env
    assert settings.allow_private_networks is True


def test_invalid_values_are_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READQ_INDEX_PREFIX", "Bad Prefix")
    with pytest.raises(ValidationError, match="index_prefix"):
        Settings(_env_file=None)


def test_retried_and_pushback_http_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings(_env_file=None)
    assert (defaults.retry_http_codes, defaults.pushback_http_codes) == ({408, 429}, {429, 503})
    monkeypatch.setenv("READQ_RETRY_HTTP_CODES", "408, 425,429")
    monkeypatch.setenv("READQ_PUSHBACK_HTTP_CODES", "425,502")
    settings = Settings(_env_file=None)
    assert (settings.retry_http_codes, settings.pushback_http_codes) == ({408, 425, 429}, {425, 502})
    monkeypatch.setenv("READQ_PUSHBACK_HTTP_CODES", "403,503")
    with pytest.raises(ValidationError, match=r"pushback_http_codes \[403\] must be 5xx or in retry_http_codes"):
        Settings(_env_file=None)


def test_celery_reliability_settings() -> None:
    config = celery_config(Settings(_env_file=None, visibility_timeout=77, index_prefix="ns", fetch_concurrency=20))
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["worker_prefetch_multiplier"] == 1
    assert config["accept_content"] == ["json"] and config["task_serializer"] == "json"
    # 20 task threads: a Redis connection each, 10 more for the consumer, events, control and readq's own threads,
    # and kombu's pool twice that, as every thread acks, publishes and retries through it.
    assert config["broker_pool_limit"] == 30
    assert config["broker_transport_options"] == {"global_keyprefix": "ns:", "visibility_timeout": 77,
                                                  "unacked_restore_throttle": 1, "max_connections": 60,
                                                  "priority_steps": [0]}
    assert not config["worker_send_task_events"] and not config["task_send_sent_event"]  # until Flower asks
    watched = celery_config(Settings(_env_file=None, task_events=True))
    assert watched["worker_send_task_events"] and watched["task_send_sent_event"]


def test_each_queue_names_its_task_and_is_its_route() -> None:
    # The task names are a wire contract: messages already waiting in Redis carry them.
    assert [(queue.task, queue.value) for queue in Queue] == [("readq.fetch", "fetch"), ("readq.index", "index")]
    config = celery_config(Settings(_env_file=None))
    assert config["task_routes"] is TASK_ROUTES
    assert TASK_ROUTES == {"readq.fetch": {"queue": "fetch"}, "readq.index": {"queue": "index"}}
    assert config["task_default_queue"] == "fetch"
