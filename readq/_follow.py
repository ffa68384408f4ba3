"""Live progress: a bar (or a table) on a terminal, a plain line every few seconds when piped, JSON lines for
scripts. Rate and ETA come from how fast the batch's done count grows."""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from config.celery import Queue
from readq._client import Client, progress_dict
from workers.state.progress import BatchProgress
from workers.times import iso_time

POLL_SECONDS = 0.5
PLAIN_LINE_SECONDS = 5.0
RATE_WINDOW_SECONDS = 30.0
HEALTH_CHECK_SECONDS = 10.0  # how often a wait asks whether workers and Elasticsearch still answer
WORKERS_REPLY_SECONDS = 1.0


class RateMeter:
    """URLs finished per second over the last half minute, and the time left at that rate."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque()

    def update(self, done: int, total: int, now: float | None = None) -> tuple[float | None, float | None]:
        now = time.monotonic() if now is None else now
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW_SECONDS:
            self._samples.popleft()
        first_at, first_done = self._samples[0]
        elapsed = now - first_at
        if elapsed <= 0:
            return None, None
        rate = (done - first_done) / elapsed
        return rate, ((total - done) / rate if rate > 0 else None)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def batch_line(progress: BatchProgress, rate: float | None, eta: float | None) -> str:
    speed = f"{rate:.1f}/s" if rate is not None else "?/s"
    return (f"batch {progress.batch}: {progress.done}/{progress.total} done, {speed}, ETA {format_eta(eta)} "
            f"(indexed {progress.indexed}, unchanged {progress.unchanged}, skipped {progress.skipped}, "
            f"failed {progress.failed})")


def progress_record(progress: BatchProgress, rate: float | None, eta: float | None) -> dict[str, Any]:
    """One JSON line of ``--wait --json``: the batch's counters, rate, ETA and the time, ISO 8601."""
    return {**progress_dict(progress), "rate": rate, "eta_seconds": eta, "at": iso_time(time.time())}


def health_problems(workers: dict[str, list[str]], elasticsearch_ok: bool, needed: Iterable[str]) -> list[str]:
    """What keeps a batch from moving on, in words: stages no worker consumes, Elasticsearch gone."""
    problems = []
    consumed = {queue for queues in workers.values() for queue in queues}
    missing = [queue for queue in needed if queue not in consumed]
    if not workers:
        problems.append("no readq worker answers; the batch waits until one runs (`readq worker`)")
    elif missing:
        problems.append(f"no worker consumes the {', '.join(missing)} queue(s); the batch waits there "
                        "(start one with `readq worker`)")
    if not elasticsearch_ok:
        problems.append("Elasticsearch does not answer; index tasks retry until it is back")
    return problems


class HealthWatch:
    """Says, while a batch is waited for, when workers or Elasticsearch go away and when they are back."""

    def __init__(self, client: Client, warn: Callable[[str], None], interval: float = HEALTH_CHECK_SECONDS) -> None:
        self.client = client
        self.warn = warn
        self.interval = interval
        self._checked_at: float | None = None
        self._reported: set[str] = set()

    def poll(self) -> None:
        now = time.monotonic()
        if self._checked_at is not None and now - self._checked_at < self.interval:
            return
        self._checked_at = now
        workers = self.client.workers(timeout=WORKERS_REPLY_SECONDS)
        problems = health_problems(workers, self.client.elasticsearch_state() == "ok", [q.value for q in Queue])
        for problem in problems:
            if problem not in self._reported:
                self.warn(problem)
        if self._reported and not problems:
            self.warn("workers and Elasticsearch answer again; the batch moves on")
        self._reported = set(problems)


def follow_batch(client: Client, batch: str, *, show: bool = True, as_json: bool = False, out: TextIO | None = None,
                 terminal: bool | None = None, warn: Callable[[str], None] | None = None) -> BatchProgress:
    """Poll the batch's Redis counters until every URL has a final state; return the final tally.

    Shows a bar on a terminal, a plain line every few seconds otherwise, or with ``as_json`` a JSON line as often
    on stdout; ``warn`` hears when workers or Elasticsearch stop (or start again) answering."""
    out = out or (sys.stdout if as_json else sys.stderr)
    meter = RateMeter()
    health = HealthWatch(client, warn) if warn is not None else None
    if show and not as_json and (out.isatty() if terminal is None else terminal):
        return _follow_with_bar(client, batch, meter, Console(file=out, force_terminal=True), health)
    last_line: float | None = None
    while True:
        progress = _read(client, batch)
        rate, eta = meter.update(progress.done, progress.total)
        due = last_line is None or time.monotonic() - last_line >= PLAIN_LINE_SECONDS
        if show and (progress.finished or due):
            line = json.dumps(progress_record(progress, rate, eta)) if as_json else batch_line(progress, rate, eta)
            print(line, file=out, flush=True)
            last_line = time.monotonic()
        if progress.finished:
            return progress
        if health is not None:
            health.poll()
        time.sleep(POLL_SECONDS)


def _follow_with_bar(client: Client, batch: str, meter: RateMeter, console: Console,
                     health: HealthWatch | None) -> BatchProgress:
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}  ETA {task.fields[eta]}  {task.fields[detail]}"))
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"batch {batch}", total=None, rate="?/s", eta="?", detail="")
        while True:
            progress = _read(client, batch)
            rate, eta = meter.update(progress.done, progress.total)
            bar.update(task, total=progress.total, completed=progress.done,
                       rate=f"{rate:.1f}/s" if rate is not None else "?/s", eta=format_eta(eta),
                       detail=f"indexed {progress.indexed} unchanged {progress.unchanged} "
                              f"skipped {progress.skipped} failed {progress.failed}")
            if progress.finished:
                return progress
            if health is not None:
                health.poll()
            time.sleep(POLL_SECONDS)


def watch_status(client: Client, batch: str | None, *, interval: float, as_json: bool, out: TextIO | None = None,
                 terminal: bool | None = None, ticks: int | None = None) -> None:
    """Show ``readq status`` again every ``interval`` seconds until Ctrl-C (or, with a batch, until it is done)."""
    out = out or sys.stdout
    meters: dict[str, RateMeter] = {}

    def snapshot() -> dict[str, Any]:
        report = client.status(batch)
        for entry in report["batches"]:
            rate, eta = meters.setdefault(entry["batch"], RateMeter()).update(entry["done"], entry["total"])
            entry.update(rate=rate, eta_seconds=eta)
        report["at"] = iso_time(time.time())
        return report

    def finished(report: dict[str, Any]) -> bool:
        return batch is not None and all(entry["finished"] for entry in report["batches"])

    if not as_json and (out.isatty() if terminal is None else terminal):
        console = Console(file=out, force_terminal=True)
        with Live(console=console, auto_refresh=False) as live:
            _loop(snapshot, lambda r: live.update(status_table(r), refresh=True), finished, interval, ticks)
        return
    render: Callable[[dict[str, Any]], None] = (
        (lambda r: print(json.dumps(r, default=str), file=out, flush=True)) if as_json
        else (lambda r: print(status_line(r), file=out, flush=True))
    )
    _loop(snapshot, render, finished, interval, ticks)


def _loop(snapshot: Callable[[], dict[str, Any]], render: Callable[[dict[str, Any]], None],
          finished: Callable[[dict[str, Any]], bool], interval: float, ticks: int | None) -> None:
    count = 0
    while True:
        report = snapshot()
        render(report)
        count += 1
        if finished(report) or (ticks is not None and count >= ticks):
            return
        time.sleep(interval)


def status_line(report: dict[str, Any]) -> str:
    queues = " ".join(f"{name}={depth}" for name, depth in report["queues"].items())
    batches = "; ".join(
        f"{b['batch']} {b['done']}/{b['total']} "
        f"{(format(b['rate'], '.1f') + '/s') if b.get('rate') is not None else '?/s'} "
        f"ETA {format_eta(b.get('eta_seconds'))} failed {b['failed']}"
        for b in report["batches"]
    )
    return f"{report['at']} queues {queues} workers={len(report['workers'])}" + (f" | {batches}" if batches else "")


def status_table(report: dict[str, Any]) -> Table:
    table = Table(title=f"readq status {report['at']}  queues: " + ", ".join(
        f"{name} {depth}" for name, depth in report["queues"].items()) + f"  workers: {len(report['workers'])}")
    for column in ("batch", "done", "total", "rate", "ETA", "indexed", "unchanged", "skipped", "failed"):
        table.add_column(column, justify="left" if column == "batch" else "right")
    for b in report["batches"]:
        rate = f"{b['rate']:.1f}/s" if b.get("rate") is not None else "?"
        table.add_row(b["batch"], str(b["done"]), str(b["total"]), rate, format_eta(b.get("eta_seconds")),
                      str(b["indexed"]), str(b["unchanged"]), str(b["skipped"]), str(b["failed"]))
    return table


def _read(client: Client, batch: str) -> BatchProgress:
    progress = client.progress(batch)
    if progress is None:
        raise LookupError(f"batch {batch} has no progress record in Redis")
    return progress
