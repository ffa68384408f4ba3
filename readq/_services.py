"""The services readq needs, run on this machine: a ``redis-server`` of our own and the ``noida-db``
Elasticsearch stand-in. ``readq dev`` starts them (under its supervisor) when the configured ones do not answer;
the integration tests and the benchmarks start their own, on free ports."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Literal, Self

import redis
from elasticsearch import Elasticsearch

LOOPBACK = "127.0.0.1"
STOP_GRACE_SECONDS = 30.0  # between SIGTERM and SIGKILL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_for(check: Any, what: str, timeout: float = 60.0, interval: float = 0.2) -> Any:
    """``check()``'s first truthy result, asked every ``interval`` s; an exception it raises counts as "not yet"
    (a service still starting). TimeoutError after ``timeout`` s, with the last such exception."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:g} s (last error: {last_error!r})")


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def noida_binary() -> str | None:
    """``noida-db`` on the PATH, or beside this Python (a virtual environment's ``bin/``)."""
    found = shutil.which("noida-db") or str(Path(sys.executable).with_name("noida-db"))
    return found if Path(found).exists() else None


class _Service(ABC):
    """A server process on 127.0.0.1 in a process group of its own; ``start`` and ``stop`` as often as wanted
    (its port and data stay). ``readq dev`` runs ``command()`` under its supervisor instead of ``start``."""

    name: str
    start_timeout: float  # s for a started server to answer

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @abstractmethod
    def command(self) -> list[str]: ...

    @abstractmethod
    def answers(self) -> bool: ...

    def start(self) -> Self:
        """Start the server, output discarded; return it once it answers (stopped again if it never does)."""
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        try:
            wait_for(self.answers, f"{self.name} on port {self.port}", self.start_timeout)
        except TimeoutError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM (Redis writes its append-only file and exits, as in a restart); SIGKILL after the grace."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class RedisServer(_Service):
    """``redis-server``: append-only persistence fsynced ``appendfsync`` (None: no persistence at all), an
    optional password, no eviction (a queue must never lose a message to make room)."""

    name = "redis-server"
    start_timeout = 20.0

    def __init__(self, data_dir: Path, port: int | None = None, *, password: str | None = None,
                 appendfsync: Literal["always", "everysec", "no"] | None = "everysec") -> None:
        super().__init__(data_dir, port)
        self.password = password
        self.appendfsync = appendfsync
        auth = f":{password}@" if password else ""
        self.url = f"redis://{auth}{LOOPBACK}:{self.port}/0"

    def command(self) -> list[str]:
        persistence = (["--appendonly", "yes", "--appendfsync", self.appendfsync] if self.appendfsync
                       else ["--appendonly", "no"])
        return [redis_server_binary() or "redis-server", "--bind", LOOPBACK, "--port", str(self.port),
                "--dir", str(self.data_dir), *persistence, "--save", "", "--maxmemory-policy", "noeviction",
                *(["--requirepass", self.password] if self.password else [])]

    def answers(self) -> bool:
        with redis.Redis.from_url(self.url) as client:
            return bool(client.ping())


class NoidaElasticsearch(_Service):
    """``noida-db start --only elasticsearch``: the Elasticsearch stand-in, its data under ``data_dir``."""

    name = "noida-db"
    start_timeout = 60.0

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        super().__init__(data_dir, port)
        self.url = f"http://{LOOPBACK}:{self.port}"

    def command(self) -> list[str]:
        return [noida_binary() or "noida-db", "start", "--only", "elasticsearch", "--data-dir", str(self.data_dir),
                "--elasticsearch-port", str(self.port)]

    def answers(self) -> bool:
        with Elasticsearch(self.url) as es:
            return bool(es.info())
