"""Small helpers the benchmarks share: Redis keys and memory, and stopping a process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

import redis

SCAN_COUNT = 5000


def delete_prefix(client: redis.Redis, prefix: str) -> int:
    """Delete every key starting with ``prefix``; return how many there were."""
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{prefix}*", count=SCAN_COUNT):
        batch.append(key)
        if len(batch) >= SCAN_COUNT:
            deleted += int(client.unlink(*batch))
            batch = []
    if batch:
        deleted += int(client.unlink(*batch))
    return deleted


def prefix_memory(client: redis.Redis, prefix: str) -> dict[str, tuple[int, int]]:
    """``MEMORY USAGE`` of the keys starting with ``prefix``, by family (the key's next part: ``fetch``, ``seen``,
    ``batch``...): family -> (keys, bytes)."""
    keys = list(client.scan_iter(match=f"{prefix}*", count=SCAN_COUNT))
    families: dict[str, tuple[int, int]] = {}
    for start in range(0, len(keys), SCAN_COUNT):
        chunk = keys[start:start + SCAN_COUNT]
        with client.pipeline(transaction=False) as pipe:
            for key in chunk:
                pipe.memory_usage(key, samples=0)
            sizes = pipe.execute()
        for key, size in zip(chunk, sizes, strict=True):
            family = key.decode()[len(prefix):].split(":", 1)[0]
            count, total = families.get(family, (0, 0))
            families[family] = (count + 1, total + int(size or 0))
    return families


def used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def commands_run(client: redis.Redis) -> dict[str, int]:
    """Commands the Redis server has run since its start, by command (``INFO commandstats``): all its clients'."""
    return {name.removeprefix("cmdstat_"): int(stats["calls"]) for name, stats in client.info("commandstats").items()}


def stop_group(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """SIGTERM the process's group (it was started with ``start_new_session``), SIGKILL it after ``timeout``."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
