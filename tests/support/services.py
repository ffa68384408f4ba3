"""readq's own processes for the integration tests (workers as `readq worker` starts them), and their settings
and namespaces; Redis and noida-db start from `readq._services`."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from config.settings import Settings
from readq._launcher import worker_command, worker_env


@functools.cache
def hermetic_cwd() -> str:
    """An empty directory to start readq's processes in: no ``.env`` file there for their settings to read."""
    path = tempfile.mkdtemp(prefix="readq-test-cwd-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


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
