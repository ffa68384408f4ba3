from __future__ import annotations

import pytest
from pydantic import SecretStr

from config.celery import celery_config
from config.settings import Settings
from readq._launcher import flower_command, flower_env, worker_command, worker_env
from workers.runtime import Runtime


def test_a_worker_runs_page_tasks_on_threads_and_consumes_every_readq_queue() -> None:
    command = worker_command(Settings(_env_file=None, fetch_concurrency=100))

    assert command[command.index("-P") + 1] == "threads" and command[command.index("-c") + 1] == "100"
    assert command[command.index("-Q") + 1] == "fetch,index"
    assert worker_command(Settings(_env_file=None), concurrency=7)[command.index("-c") + 1] == "7"


def test_a_concurrency_from_the_command_line_sizes_the_worker_s_redis_pools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(_env_file=None, metrics_port=0)
    env = worker_env(settings, {"PATH": "/bin"}, concurrency=512, processes=3)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    in_the_worker = Settings(_env_file=None)

    assert env["READQ_FETCH_CONCURRENCY"] == "512" and in_the_worker.extract_concurrency == 3
    assert celery_config(in_the_worker)["broker_transport_options"]["max_connections"] > 2 * 512  # type: ignore[index]
    assert Runtime(in_the_worker).redis.connection_pool.max_connections > 512  # readq's own client, too
    assert "READQ_FETCH_CONCURRENCY" not in worker_env(settings, {})


def test_flower_gets_basic_auth_only_when_configured_and_never_on_its_command_line() -> None:
    assert "FLOWER_BASIC_AUTH" not in flower_env(Settings(), {})
    secured = Settings(flower_basic_auth=SecretStr("ops:s3cret"))
    assert flower_env(secured, {"PATH": "/bin"}) == {"PATH": "/bin", "FLOWER_BASIC_AUTH": "ops:s3cret"}
    assert not any("s3cret" in part for part in flower_command(secured))


def test_the_supervisor_kills_what_outlives_its_stop_grace() -> None:
    import subprocess
    import sys
    import time

    from readq._launcher import STOP_GRACE_SECONDS, Supervisor, stop_grace_seconds

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
    fetch = 2 * defaults.fetch_deadline + defaults.es_request_timeout
    index = 2 * (defaults.es_request_timeout + defaults.bulk_flush_ms / 1000 + 5)
    assert stop_grace_seconds(defaults) == fetch + defaults.extract_time_limit + index + 10
