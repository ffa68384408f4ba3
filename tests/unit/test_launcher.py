from __future__ import annotations

import pytest
from pydantic import SecretStr

from config.celery import celery_config
from config.settings import Settings
from workers.launcher import flower_command, flower_env, worker_command, worker_env
from workers.runtime import Runtime


def test_each_stage_runs_in_the_pool_that_suits_it() -> None:
    settings = Settings(fetch_concurrency=100, extract_concurrency=3, index_concurrency=50)
    fetch, extract, index = (worker_command(s, settings) for s in ("fetch", "extract", "index"))

    assert fetch[fetch.index("-P") + 1] == "threads" and fetch[fetch.index("-c") + 1] == "100"
    assert extract[extract.index("-P") + 1] == "prefork" and extract[extract.index("-c") + 1] == "3"
    assert "--max-memory-per-child" in extract
    assert index[index.index("-P") + 1] == "threads" and index[index.index("-c") + 1] == "50"
    assert [cmd[cmd.index("-Q") + 1] for cmd in (fetch, extract, index)] == ["fetch", "extract", "index"]


def test_a_concurrency_from_the_command_line_sizes_the_worker_s_redis_pools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(_env_file=None, metrics_port=0)
    env = worker_env("fetch", settings, {"PATH": "/bin"}, concurrency=512)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    in_the_worker = Settings(_env_file=None)

    assert env["READQ_FETCH_CONCURRENCY"] == "512"
    assert celery_config(in_the_worker)["broker_transport_options"]["max_connections"] > 2 * 512  # type: ignore[index]
    assert Runtime(in_the_worker).redis.connection_pool.max_connections > 512  # readq's own client, too
    assert "READQ_FETCH_CONCURRENCY" not in worker_env("fetch", settings, {})


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stage"):
        worker_command("crawl", Settings())


def test_flower_gets_basic_auth_only_when_configured_and_never_on_its_command_line() -> None:
    assert "FLOWER_BASIC_AUTH" not in flower_env(Settings(), {})
    secured = Settings(flower_basic_auth=SecretStr("ops:s3cret"))
    assert flower_env(secured, {"PATH": "/bin"}) == {"PATH": "/bin", "FLOWER_BASIC_AUTH": "ops:s3cret"}
    assert not any("s3cret" in part for part in flower_command(secured))


def test_the_supervisor_kills_what_outlives_its_stop_grace() -> None:
    import subprocess
    import sys
    import time

    from workers.launcher import STOP_GRACE_SECONDS, Supervisor, stop_grace_seconds

    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); " \
               "time.sleep(60)"
    supervisor = Supervisor(stop_grace=0.5)
    process = supervisor.start("stubborn", [sys.executable, "-c", stubborn],
                               output=subprocess.PIPE)  # type: ignore[arg-type]
    assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    started = time.monotonic()

    supervisor.stop()

    assert process.returncode == -9 and time.monotonic() - started < STOP_GRACE_SECONDS
    defaults = Settings(_env_file=None)
    assert stop_grace_seconds(["extract"], defaults) == defaults.extract_time_limit + 10
    longest_fetch = 2 * defaults.fetch_deadline + defaults.es_request_timeout
    assert stop_grace_seconds(["fetch", "index"], defaults) == longest_fetch + 10
