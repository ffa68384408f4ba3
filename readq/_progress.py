"""Live batch progress: a progress bar on a terminal, a plain line every few seconds when piped."""

from __future__ import annotations

import sys
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from readq._client import Client
from workers.progress import BatchProgress

POLL_SECONDS = 0.5
PLAIN_LINE_SECONDS = 5.0


def follow_batch(client: Client, batch: str, *, show: bool = True) -> BatchProgress:
    """Poll the batch's Redis counters until every URL has a final state; return the final tally."""
    if show and sys.stderr.isatty():
        return _follow_with_bar(client, batch)
    last_line = 0.0
    while True:
        progress = _read(client, batch)
        if show and (progress.finished or time.monotonic() - last_line >= PLAIN_LINE_SECONDS):
            print(_line(progress), file=sys.stderr, flush=True)
            last_line = time.monotonic()
        if progress.finished:
            return progress
        time.sleep(POLL_SECONDS)


def _follow_with_bar(client: Client, batch: str) -> BatchProgress:
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[detail]}"), TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(f"batch {batch}", total=None, detail="")
        while True:
            progress = _read(client, batch)
            bar.update(task, total=progress.total, completed=progress.done,
                       detail=f"indexed {progress.indexed} skipped {progress.skipped} failed {progress.failed}")
            if progress.finished:
                return progress
            time.sleep(POLL_SECONDS)


def _read(client: Client, batch: str) -> BatchProgress:
    progress = client.progress(batch)
    if progress is None:
        raise LookupError(f"batch {batch} has no progress record in Redis")
    return progress


def _line(progress: BatchProgress) -> str:
    return (f"batch {progress.batch}: {progress.done}/{progress.total} done "
            f"(indexed {progress.indexed}, skipped {progress.skipped}, failed {progress.failed})")
