"""Each readq service of docker-compose.yml run as a process, with the command and the environment compose would
give its container (its .env included); only the stack's host names become this machine's addresses: a
password-protected redis-server of the test's own for ``redis``, noida-db for ``elasticsearch``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from readq import Client
from readq._exit_codes import SUCCESS, UNAVAILABLE
from readq._launcher import stop_grace_seconds
from readq._services import RedisServer, free_port, wait_for
from tests.support.compose import healthcheck_command, load_compose, service_command, service_environment
from tests.support.services import drop_indices

BIN = Path(sys.executable).parent


@dataclass
class Stack:
    compose: dict[str, Any]
    dotenv: Path
    workdir: Path  # the container's working directory: no .env in it, as in the image
    redis_url: str
    es_url: str
    flower_port: int

    def env(self, service: str) -> dict[str, str]:
        redis_address = self.redis_url.split("@", 1)[1].rsplit("/", 1)[0]
        env = {name: value.replace("@redis:6379/", f"@{redis_address}/").replace("http://elasticsearch:9200",
                                                                                 self.es_url)
               for name, value in service_environment(self.compose, service, self.dotenv).items()}
        return {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HOME": str(self.workdir), **env}

    def localize(self, command: list[str]) -> list[str]:
        """The container's command with this machine's paths and a free Flower port."""
        local = [str(BIN / part) if part in ("readq", "celery", "python") else part for part in command]
        return [part.replace("--db=/data/", f"--db={self.workdir}/").replace("5555", str(self.flower_port))
                for part in local]

    def run(self, service: str, command: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.localize(command), env=self.env(service), cwd=self.workdir, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, service: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(self.localize(service_command(self.compose, service)), env=self.env(service),
                                    cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture(scope="module")
def stack(settings: Settings, es_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("compose")
    (base / "redis").mkdir()
    password = f"compose-{uuid.uuid4().hex[:12]}"
    redis_server = RedisServer(base / "redis", password=password, appendfsync="always").start()
    prefix = f"{settings.index_prefix}-compose"
    dotenv = base / ".env"
    dotenv.write_text("\n".join([
        f"REDIS_PASSWORD={password}", "ELASTIC_PASSWORD=elastic-secret", "KIBANA_PASSWORD=kibana-secret",
        *(f"KIBANA_{name}_KEY={'k' * 32}" for name in ("SECURITY", "SAVED_OBJECTS", "REPORTING")),
        "FLOWER_BASIC_AUTH=ops:flower-secret", "READQ_ES_PASSWORD=readq-secret",
        # readq settings, through .env as an operator sets them
        f"READQ_INDEX_PREFIX={prefix}", "READQ_METRICS_PORT=0", "READQ_FETCH_CONCURRENCY=4",
        "READQ_EXTRACT_CONCURRENCY=1", "READQ_INDEX_CONCURRENCY=4", "READQ_SWEEP_INTERVAL=0",
    ]) + "\n")
    workdir = base / "app"
    workdir.mkdir()
    stack = Stack(compose=load_compose(), dotenv=dotenv, workdir=workdir, redis_url=redis_server.url, es_url=es_url,
                  flower_port=free_port())
    try:
        yield stack
    finally:
        with Client(settings.model_copy(update={"index_prefix": prefix, "redis_url": redis_server.url})) as client:
            drop_indices(client)
        redis_server.stop()


def test_setup_installs_the_templates_with_the_env_compose_gives_it(stack: Stack) -> None:
    done = stack.run("setup", service_command(stack.compose, "setup"))

    assert done.returncode == SUCCESS, done.stderr
    assert "templates installed" in done.stdout
    prefix = stack.env("setup")["READQ_INDEX_PREFIX"]
    assert json.loads(stack.run("cli", ["readq", "setup", "--json"]).stdout)["templates"] == [
        f"{prefix}-pages", f"{prefix}-status"]


def test_the_cli_service_runs_readq_commands_against_the_stack(stack: Stack) -> None:
    helped = stack.run("cli", service_command(stack.compose, "cli"))
    status = stack.run("cli", ["readq", "status", "--json"])

    assert helped.returncode == SUCCESS and "enqueue" in helped.stdout
    assert status.returncode == SUCCESS, status.stderr
    assert json.loads(status.stdout)["elasticsearch"] == "ok"


def test_the_worker_passes_its_healthcheck_and_stops_warmly(stack: Stack, tmp_path: Path) -> None:
    check = healthcheck_command(stack.compose, "worker")
    before = stack.run("worker", check)
    assert before.returncode == UNAVAILABLE and "no worker" in before.stderr

    worker = stack.start("worker", tmp_path / "worker.log")
    try:
        wait_for(lambda: stack.run("worker", check, 30).returncode == SUCCESS, "worker healthcheck", timeout=120,
                 interval=1)
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=stop_grace_seconds(Settings(_env_file=None)))
    assert code == 0, (tmp_path / "worker.log").read_text()[-2000:]


def test_flower_serves_its_healthcheck(stack: Stack, tmp_path: Path) -> None:
    flower = stack.start("flower", tmp_path / "flower.log")
    try:
        check = healthcheck_command(stack.compose, "flower")
        wait_for(lambda: stack.run("flower", check, 30).returncode == SUCCESS, "Flower healthcheck", 60, interval=1)
    finally:
        os.killpg(flower.pid, signal.SIGTERM)
        flower.wait(timeout=30)
    assert (stack.workdir / "flower.db").exists() or any(stack.workdir.glob("flower.db*"))  # --persistent
