"""Real services for the integration tests: the noida-db Elasticsearch stand-in and readq's own workers."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from elasticsearch import Elasticsearch

from config.settings import Settings
from readq._launcher import worker_command, worker_env


@functools.cache
def hermetic_cwd() -> str:
    """An empty directory to start readq's processes in: no ``.env`` file there for their settings to read."""
    path = tempfile.mkdtemp(prefix="readq-test-cwd-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Any, what: str, timeout: float = 60.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # the service is still starting
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:g} s (last error: {last_error!r})")


class NoidaElasticsearch:
    """``noida-db start --only elasticsearch`` in the foreground, owned by the test session."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> NoidaElasticsearch:
        binary = shutil.which("noida-db") or str(Path(sys.executable).with_name("noida-db"))
        self.process = subprocess.Popen(
            [binary, "start", "--only", "elasticsearch", "--data-dir", str(self.data_dir),
             "--elasticsearch-port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        es = Elasticsearch(self.url)
        wait_for(es.info, f"noida-db at {self.url}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def drop_indices(client: Any) -> None:
    """Delete a test namespace's indices and templates by name (wildcard deletes are refused by default)."""
    es, prefix = client.runtime.es, client.settings.index_prefix
    names = list(es.options(ignore_status=404).indices.get(index=f"{prefix}-*", expand_wildcards="all").body)
    if names:
        es.indices.delete(index=",".join(names))
    for alias in (client.settings.pages_alias, client.settings.status_alias):
        es.options(ignore_status=404).indices.delete_index_template(name=alias)
    for component in ("settings", "pages-mappings", "status-mappings"):
        es.options(ignore_status=404).cluster.delete_component_template(name=f"{prefix}-{component}")
    es.options(ignore_status=404).ingest.delete_pipeline(id=f"{client.settings.pages_alias}-languages")


def settings_env(settings: Settings) -> dict[str, str]:
    """The READQ_* environment that makes a subprocess see ``settings``."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, tuple | frozenset):  # networks, HTTP codes: comma-separated
            value = ",".join(map(str, value))
        env[f"READQ_{name.upper()}"] = str(value)
    return env


class RedisServer:
    """A redis-server of the test's own (append-only persistence, optional password), to restart at will."""

    def __init__(self, data_dir: Path, password: str | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.password = password
        auth = f":{password}@" if password else ""
        self.url = f"redis://{auth}127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
                   "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory-policy", "noeviction"]
        if self.password:
            command += ["--requirepass", self.password]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: redis.Redis.from_url(self.url).ping(), f"redis-server on {self.port}", 20)
        return self

    def stop(self) -> None:
        """SIGTERM: Redis writes its append-only file and exits, as in a restart."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def extraction_processes(worker: int) -> list[int]:
    """A worker's extraction processes: the children of its fork server, itself a child of the worker."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            pid, rest = stat.read_text().split(" ", 1)
            parents[int(pid)] = int(rest.rsplit(")", 1)[1].split()[1])
    servers = {pid for pid, parent in parents.items() if parent == worker}
    return sorted(pid for pid, parent in parents.items() if parent in servers)


class CeleryWorker:
    """A readq Celery worker, started exactly as `readq worker` starts it, in a process group of its own so that
    a test can kill the whole group (the worker and its extraction processes) with SIGKILL."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> CeleryWorker:
        env = worker_env(self.settings, {**os.environ, **settings_env(self.settings)})
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(worker_command(self.settings), env=env, stdout=self.log,
                                        cwd=hermetic_cwd(),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def kill(self) -> None:
        """kill -9 of the worker's whole process group: no warm shutdown, nothing acknowledged."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


class WorkerProcess:
    """``readq worker`` as a user runs it: a supervisor process and its Celery worker."""

    def __init__(self, settings: Settings, log_path: Path, args: list[str] | None = None) -> None:
        self.settings = settings
        self.log_path = log_path
        self.args = args or []
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        env = {**os.environ, **settings_env(self.settings)}
        readq = str(Path(sys.executable).with_name("readq"))
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen([readq, "worker", "--loglevel", "INFO", *self.args], env=env,
                                        cwd=hermetic_cwd(),
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
