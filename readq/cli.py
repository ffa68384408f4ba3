"""The ``readq`` command line. Every command has ``--help`` and ``--json``; exit codes are in ``_exit_codes``."""

from __future__ import annotations

import codecs
import functools
import itertools
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from config.settings import get_settings
from readq import _exit_codes as exit_codes
from workers.errors import ReadqError, RefusedURL
from workers.masking import mask_secrets

# The engines load when a command needs them, so that `readq extract` and `--help` start fast.
if TYPE_CHECKING:
    from readq._client import Client
    from readq._producer import Refusal
    from workers.state.progress import BatchProgress

WORKER_CHECK_TIMEOUT = 5.0  # s a worker on this host has to answer `readq worker --check`
EXPORT_PROGRESS_SECONDS = 5.0

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 110}
F = TypeVar("F", bound=Callable[..., Any])


def json_option(command: F) -> F:
    """Add ``--json``: machine-readable output on stdout, nothing else there."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(command)


def emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        human()


def with_client(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from readq._client import Client

        with Client(get_settings()) as client:
            return command(client, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="readq")
def cli() -> None:
    """readq: queue URLs; workers fetch, extract and index them into Elasticsearch; search the result.

    Settings come from READQ_* environment variables or a .env file (see the README). Exit codes: 0 success;
    1 Redis or Elasticsearch unreachable, or another error; 2 some URLs refused or failed, or nothing found;
    64 wrong command line; 130 interrupted.
    """


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--file", "-f", "url_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              help="Read URLs from this UTF-8 file, one per line ('-' for standard input); blank lines and lines "
                   "starting with '#' are ignored.")
@click.option("--sitemap", "sitemaps", multiple=True, metavar="URL",
              help="Queue the pages a sitemap or sitemap index (gzip too) lists. Repeatable.")
@click.option("--feed", "feeds", multiple=True, metavar="URL",
              help="Queue the entries of an RSS/Atom feed. Repeatable.")
@click.option("--batch", "-b", help="Batch id to queue under (default: a new one).")
@click.option("--force", is_flag=True, help="Queue URLs even if queued or indexed within READQ_REFETCH_AFTER.")
@click.option("--wait", is_flag=True,
              help="Show progress until the batch is finished, then its tally (with --json: JSON lines, the "
                   "receipt last).")
@json_option
@with_client
def enqueue(client: Client, urls: tuple[str, ...], url_file: str | None, sitemaps: tuple[str, ...],
            feeds: tuple[str, ...], batch: str | None, force: bool, wait: bool, as_json: bool) -> None:
    """Queue URLs for fetching, extraction and indexing.

    URLs queued or indexed within READQ_REFETCH_AFTER are not queued again (counted as "already seen") unless
    --force; a URL given twice is queued once (counted as "duplicates"). Exit 0 when every URL was accepted
    (and, with --wait, none failed), 2 when some were refused or failed or a sitemap/feed could not be read,
    1 when Redis or Elasticsearch is unreachable, 130 on Ctrl-C (the batch goes on).

    \b
    Example:
        readq enqueue https://example.com/a https://example.com/b --batch demo --wait
        readq enqueue --file urls.txt --json
        readq enqueue --sitemap https://example.com/sitemap.xml --feed https://example.com/rss
    """
    from readq._client import progress_dict

    if not (urls or url_file or sitemaps or feeds):
        raise click.UsageError("give URLs as arguments, with --file (use '-' for standard input), --sitemap or --feed")
    input_refusals: list[Refusal] = []
    lines = _url_lines(_open_url_file(url_file), input_refusals) if url_file else ()
    sources = [iter(urls), lines, _seeded(client, sitemaps, feeds, input_refusals)]
    receipt = client.enqueue(itertools.chain.from_iterable(sources), batch, force=force)
    for refusal in input_refusals:
        receipt.refuse(refusal)
    if not as_json:
        click.echo(f"batch {receipt.batch}: {receipt.accepted} accepted, {receipt.already_seen} already seen, "
                   f"{receipt.already_queued} already queued, {receipt.duplicates} duplicates, "
                   f"{receipt.refused_count} refused")
        for refusal in receipt.refused[:20]:
            click.echo(f"  refused {refusal.url!r} ({refusal.reason}): {refusal.message}", err=True)
        if receipt.refused_count > 20:
            click.echo(f"  ... {receipt.refused_count - 20} more refused; --json lists them", err=True)
    final = _wait_for(client, receipt.batch, as_json) if wait and receipt.accepted else None
    result = {**receipt.to_dict(), "progress": progress_dict(final) if final else None}
    emit(result, as_json, lambda: click.echo(tally(final)) if final else None)
    if receipt.refused_count or (final is not None and final.failed):
        sys.exit(exit_codes.PARTIAL)


def _open_url_file(name: str) -> IO[bytes]:
    stream: IO[bytes]
    if name != "-":
        stream = open(name, "rb")  # noqa: SIM115 (closed with the command's context)
    elif sys.stdin is not None and hasattr(sys.stdin, "buffer"):
        stream = sys.stdin.buffer
    else:
        raise click.BadParameter("standard input is closed: there are no URLs to read", param_hint="'--file'")
    click.get_current_context().call_on_close(stream.close)
    return stream


def _url_lines(stream: IO[bytes], refusals: list[Refusal]) -> Iterator[str]:
    """The file's lines as text, a leading UTF-8 byte-order mark dropped; a line that is not UTF-8 is refused
    (``not_utf8``) rather than queued with U+FFFD where its bytes were."""
    from readq._producer import Refusal

    for number, line in enumerate(stream, 1):
        raw = line.removeprefix(codecs.BOM_UTF8) if number == 1 else line
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            shown = mask_secrets(raw.decode("utf-8", "backslashreplace").strip()[:2000])
            refusals.append(Refusal(url=shown, reason="not_utf8", message=(
                f"line {number} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})")))


def _seeded(client: Client, sitemaps: tuple[str, ...], feeds: tuple[str, ...],
            errors: list[Refusal]) -> Iterator[str]:
    """Page URLs from sitemaps and feeds, read lazily and politely; a seed that cannot be read, or the part of one
    that passes its limits, becomes a refusal."""
    if not (sitemaps or feeds):
        return
    from readq._producer import Refusal
    from readq._seeds import PoliteSeedFetch, SeedLimitExceeded, SeedLimits, SeedReader

    runtime, settings = client.runtime, client.settings
    fetch = PoliteSeedFetch(runtime.fetcher, runtime.gate, runtime.robots if settings.obey_robots else None)
    reader = SeedReader(fetch, SeedLimits.from_settings(settings), max_body_bytes=settings.max_body_bytes)
    readers: list[tuple[str, Callable[[], Iterable[str]]]] = [
        (url, functools.partial(reader.sitemap_urls, url)) for url in sitemaps
    ]
    readers += [(url, functools.partial(reader.feed_urls, url)) for url in feeds]
    for seed, read in readers:
        try:
            yield from read()
        except ReadqError as exc:
            reason = exc.reason if isinstance(exc, SeedLimitExceeded) else "seed_unreadable"
            errors.append(Refusal(url=mask_secrets(seed), reason=reason, message=mask_secrets(str(exc))))


def _wait_for(client: Client, batch: str, as_json: bool) -> BatchProgress:
    from readq._follow import follow_batch

    try:
        final = follow_batch(client, batch, as_json=as_json,
                             warn=lambda message: click.echo(f"warning: {message}", err=True))
    except KeyboardInterrupt:
        click.echo(f"\nstopped waiting; batch {batch} goes on in the workers (follow it with "
                   f"`readq status --batch {batch} --watch`)", err=True)
        sys.exit(exit_codes.INTERRUPTED)
    client.make_searchable()  # so that a search right after --wait finds the batch
    return final


def tally(progress: BatchProgress) -> str:
    return (f"batch {progress.batch}: {progress.indexed} indexed, {progress.unchanged} unchanged, "
            f"{progress.skipped} skipped, {progress.failed} failed of {progress.total}")


@cli.command()
@click.option("--batch", "-b", help="Only this batch.")
@click.option("--failed", "list_failed", is_flag=True, help="List the failed URLs (with --reason, --limit).")
@click.option("--reason", help="With --failed: only this failure reason (e.g. http_status, timeout).")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True, help="With --failed: at most N.")
@click.option("--watch", "-w", is_flag=True,
              help="Refresh until Ctrl-C (with --batch: until it is done): a table on a terminal, a line per "
                   "refresh when piped, a JSON object per refresh with --json.")
@click.option("--interval", type=click.FloatRange(0.2), default=2.0, show_default=True, help="With --watch: seconds.")
@json_option
@with_client
def status(client: Client, batch: str | None, list_failed: bool, reason: str | None, limit: int, watch: bool,
           interval: float, as_json: bool) -> None:
    """Queue depths per stage, workers seen, batch tallies, URLs waiting for a retry and recent failures; or,
    with --failed, the failures. Exit 2 when --batch names no known batch.

    \b
    Example:
        readq status --batch demo
        readq status --watch
        readq status --failed --reason timeout --json
    """
    client.check_redis()
    if reason is not None:
        _check_reason(reason)
    if watch:
        from readq._follow import watch_status

        watch_status(client, batch, interval=interval, as_json=as_json)
        return
    if list_failed:
        client.check()
        failures = list(client.failed(batch=batch, reason=reason, limit=limit))
        lines = [f"{f['url']}  [{f.get('batch')}] {f.get('reason')} after {f.get('attempts')} attempt(s): "
                 f"{f.get('error')}" for f in failures]
        emit(failures, as_json, lambda: click.echo("\n".join(lines) or "no failed URLs"))
        return
    report = client.status(batch)
    if batch and not report["batches"]:
        emit({**report, "error": f"no batch {batch!r}"}, as_json,
             lambda: click.echo(f"no batch {batch!r} (unknown, or expired after its TTL)", err=True))
        sys.exit(exit_codes.PARTIAL)

    def human() -> None:
        if report["elasticsearch"] != "ok":
            click.echo(f"elasticsearch: {report['elasticsearch']} (index tasks retry until it is back)")
        queues = report["queues"]
        click.echo("queues: " + ", ".join(f"{name} {depth}" for name, depth in queues.items()))
        workers = report["workers"]
        click.echo(f"workers: {len(workers)}" + "".join(f"\n  {n}: {', '.join(q)}" for n, q in workers.items()))
        for progress in report["batches"]:
            state = "finished" if progress["finished"] else "running"
            click.echo(f"batch {progress['batch']} ({state}): {progress['done']}/{progress['total']} done; "
                       f"queued {progress['queued']}, fetched {progress['fetched']}, indexed {progress['indexed']}, "
                       f"unchanged {progress['unchanged']}, skipped {progress['skipped']}, "
                       f"failed {progress['failed']}")
        retrying = report["retrying"]
        if retrying["count"]:
            click.echo(f"waiting for a retry: {retrying['count']} URL(s)")
            for retry in retrying["soonest"]:
                click.echo(f"  {retry['url']} [{retry['batch']}] attempt {retry['attempt']} failed "
                           f"({retry['reason']}: {retry['error']}); next attempt at {retry['next_attempt_at']}")
        for failure in report["recent_failures"]:
            click.echo(f"failed {failure['url']} [{failure.get('stage')}] {failure.get('reason')} after "
                       f"{failure.get('attempts')} attempt(s): {failure.get('error')}")

    emit(report, as_json, human)


def _check_reason(reason: str) -> None:
    from workers.state.failures import failure_reasons

    known = failure_reasons()
    if reason not in known:
        raise click.BadParameter(f"{reason!r} is no failure reason; known: {', '.join(sorted(known))}",
                                 param_hint="--reason")


@cli.command()
@click.option("--batch", "-b", help="Only URLs that failed in this batch.")
@click.option("--reason", help="Only URLs that failed for this reason (see `readq status --failed`).")
@click.option("--include-permanent", is_flag=True,
              help="Also failures that another attempt would repeat (a 4xx answer, a rejected document...).")
@json_option
@with_client
def retry(client: Client, batch: str | None, reason: str | None, include_permanent: bool, as_json: bool) -> None:
    """Queue failed URLs again, each into the batch it failed in: those whose failure may pass (timeouts,
    connection errors, 5xx...), and with --include-permanent the rest too. Exit 64 for an unknown --reason.

    \b
    Example:
        readq retry --batch monday --reason timeout
    """
    if reason is not None:
        _check_reason(reason)
    client.check()
    receipts = client.retry(batch=batch, reason=reason, include_permanent=include_permanent)
    left = "" if include_permanent else " (permanent failures are left; --include-permanent queues them too)"
    emit([r.to_dict() for r in receipts], as_json, lambda: click.echo(
        f"re-queued {sum(r.accepted for r in receipts)} failed URL(s) in {len(receipts)} batch(es){left}"))


@cli.command()
@click.argument("url")
@json_option
@with_client
def get(client: Client, url: str, as_json: bool) -> None:
    """Show the stored document for URL (or for the page whose canonical URL it is). Exit 2 if there is none,
    with the URL's state if known (and, while it waits for a retry, its last error and next attempt); 64 if URL
    is not a URL readq accepts.

    \b
    Example:
        readq get https://example.com/a --json
    """
    from workers.state.progress import FINAL_STATES
    from workers.times import iso_time
    from workers.urls import normalize_url

    try:
        normalize_url(url)
    except RefusedURL as exc:
        raise click.BadParameter(f"{url!r} is not a URL readq accepts ({exc.reason}): {exc}",
                                 param_hint="URL") from None
    client.check()
    document = client.get(url)
    if document is None:
        state = client.url_status(url)
        pending = client.pending_retry(url) if state is None or state.get("state") not in FINAL_STATES else None
        detail = f"its state: {state.get('state')} {state.get('reason') or ''}".strip() if state else "never seen"
        if pending is not None:
            detail += f"; {pending.describe()}"
        robots_at = client.robots_unavailable_until(url) if state is None or state.get("state") == "queued" else None
        if robots_at is not None:
            detail += f"; the site's robots.txt could not be read, asked again at {iso_time(robots_at)}"
        emit({"url": url, "document": None, "status": state, "retry": pending.to_dict() if pending else None,
              "robots_unavailable_until": iso_time(robots_at) if robots_at is not None else None},
             as_json, lambda: click.echo(f"no document for {url} ({detail})", err=True))
        sys.exit(exit_codes.PARTIAL)
    shown = document.to_dict()

    def human() -> None:
        for field in ("title", "url", "canonical_url", "author", "published", "lang", "site_name", "word_count",
                      "duplicate_of"):
            if shown.get(field) is not None:
                click.echo(f"{field}: {shown[field]}")
        click.echo("")
        click.echo(document.text)

    emit(shown, as_json, human)


@cli.command()
@click.option("--batch", "-b", help="Only documents of this batch.")
@click.option("--since", metavar="TIME", help="Only documents fetched at or after TIME (ISO 8601, e.g. 2026-11-30 "
                                               "or 2026-11-30T08:00:00Z).")
@json_option
@with_client
def export(client: Client, batch: str | None, since: str | None, as_json: bool) -> None:
    """Print stored documents as JSON lines (the fields `readq get --json` shows), read through one point in
    time: documents indexed meanwhile are not mixed in. A count goes to stderr every few seconds. Exit 2 when
    nothing matched.

    Output is JSON lines either way (--json is accepted for symmetry).

    \b
    Example:
        readq export --batch monday > monday.jsonl
        readq export --since 2026-11-30T00:00:00Z | gzip > today.jsonl.gz
    """
    del as_json
    since_time = _parse_time(since) if since is not None else None
    client.check()
    exported, last_report = 0, time.monotonic()
    for document in client.export(batch=batch, since=since_time):
        click.echo(json.dumps(document.to_dict(), ensure_ascii=False))
        exported += 1
        if time.monotonic() - last_report >= EXPORT_PROGRESS_SECONDS:
            click.echo(f"exported {exported} documents so far", err=True)
            last_report = time.monotonic()
    click.echo(f"exported {exported} documents", err=True)
    if not exported:
        sys.exit(exit_codes.PARTIAL)


def _parse_time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time (e.g. 2026-11-30T08:00:00Z)",
                                 param_hint="--since") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@cli.command()
@click.option("--batch", "-b", required=True, help="The batch to delete.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
@with_client
def purge(client: Client, batch: str, yes: bool, as_json: bool) -> None:
    """Delete a batch: its documents, its status records and its state in Redis (progress, seen-set entries,
    pending retries, recent failures). Asks first unless --yes; refuses a batch that is still running.
    Documents a later batch indexed again belong to that batch and stay. Exit 2 when there is no such batch,
    130 when the confirmation is declined.

    \b
    Example:
        readq purge --batch monday --yes
    """
    client.check()
    progress = client.progress(batch)
    if progress is not None and not progress.finished:
        raise click.ClickException(f"batch {batch} is still running ({progress.done}/{progress.total} done): "
                                   "purge it once it is finished")
    documents = client.count_documents(batch)
    if progress is None and not documents:
        emit({"batch": batch, "error": "no such batch"}, as_json,
             lambda: click.echo(f"no batch {batch!r}: nothing to delete", err=True))
        sys.exit(exit_codes.PARTIAL)
    what = (f"{documents} document(s)" + (f" and the records of {progress.total} URL(s)" if progress else "")
            + f" of batch {batch}")
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(f"purge would delete {what}: add --yes to delete without a prompt")
        if not click.confirm(f"Delete {what}?", err=True):
            click.echo("nothing deleted", err=True)
            sys.exit(exit_codes.INTERRUPTED)
    deleted = client.purge(batch, progress=lambda step: click.echo(f"purge {batch}: {step}", err=True))
    emit({"batch": batch, **deleted}, as_json, lambda: click.echo(
        f"batch {batch} purged: {deleted['documents']} documents, {deleted['status_records']} status records, "
        f"{deleted['urls_forgotten']} URLs forgotten in Redis"))


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--size", "-n", default=10, show_default=True, type=click.IntRange(1, 1000), help="Hits to show.")
@click.option("--from", "offset", default=0, show_default=True, type=click.IntRange(min=0),
              help="Skip this many hits (paging; --from plus --size at most 10,000).")
@click.option("--domain", help="Only documents from this host.")
@click.option("--lang", help="The query's language (ISO 639-1, e.g. de; 'all' for every one); default: detected.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Published on or after this day (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Published on or before this day (YYYY-MM-DD).")
@click.option("--no-collapse", is_flag=True, help="Show near-duplicates as hits of their own.")
@json_option
@with_client
def search(client: Client, query: tuple[str, ...], size: int, offset: int, domain: str | None, lang: str | None,
           since: Any, until: Any, no_collapse: bool, as_json: bool) -> None:
    """Full-text search of indexed documents, best first, with the matching passage highlighted.

    QUERY: words (any of them; documents with more rank higher), "an exact phrase", +required, -excluded,
    prefix*, and title:WORD, author:"A Name", site:example.com, lang:de (-site:... excludes); +, - and field
    terms apply to the whole query (not inside parentheses) and take prefix* too (title:Häus*). Words are matched
    in their language's forms (Haus finds Häuser), near-duplicates fold into one hit ("and N similar"). A
    -word unquoted needs `--` before the query (readq search -- Haus -Umfrage), else it reads as an option.
    Exit 2 when nothing matched, 64 when the query cannot be searched.

    \b
    Examples:
        readq search Wahlen Berlin --lang de --since 2024-01-01
        readq search '"climate policy" -opinion' title:EU --from 10
        readq search author:"Jane Doe" site:example.com --json
    """
    from workers.indexing.query import SearchQueryError

    client.check()
    try:
        results = client.search(" ".join(query), size=size, offset=offset, domain=domain, lang=lang,
                                 since=since.date() if since else None, until=until.date() if until else None,
                                 collapse=not no_collapse)
    except SearchQueryError as exc:  # it may quote what was typed: a URL with a password, say
        raise click.UsageError(mask_secrets(str(exc))) from exc

    def human() -> None:
        if not results.hits and results.total:  # paged past the end
            click.echo(f"{results.total} matching documents, none from {offset + 1} on", err=True)
            return
        if not results.hits:
            click.echo(f"no hits (languages searched: {', '.join(results.languages)})", err=True)
            return
        click.echo(f"{results.total} matching documents; {offset + 1}-{offset + len(results)}:")
        for rank, hit in enumerate(results, offset + 1):
            similar = f"  (and {hit.similar} similar)" if hit.similar else ""
            duplicate = f"\n   duplicate of {hit.duplicate_of}" if hit.duplicate_of else ""
            meta = "  ".join(v for v in (hit.lang, (hit.published or "")[:10]) if v)
            click.echo(f"{rank}. {hit.title or '(no title)'}  [{hit.score:.2f}]{similar}\n   {hit.url}  {meta}"
                       f"{duplicate}\n   {hit.snippet}")

    emit(results.to_dict(), as_json, human)
    if not results.hits:
        sys.exit(exit_codes.PARTIAL)


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None, help="Processes (default: one per core).")
@json_option
def extract(sources: tuple[str, ...], jobs: int | None, as_json: bool) -> None:
    """Run the extractor locally, no queue: one JSON object per FILE_OR_URL (an .html file, gzipped or not, or
    an http(s) URL), the fields the pipeline would index.

    Output is JSON lines either way (--json is accepted for symmetry). Exit 2 if any input failed.

    \b
    Example:
        readq extract page.html saved.html.gz https://example.com/a > docs.jsonl
    """
    from concurrent.futures import ProcessPoolExecutor

    from readq._extract import extract_source

    del as_json
    workers = jobs or os.cpu_count() or 1
    failed = 0
    if len(sources) == 1 or workers == 1:
        results: Iterator[dict[str, Any]] = map(extract_source, sources)
    else:
        pool = ProcessPoolExecutor(max_workers=workers)
        results = pool.map(extract_source, sources, chunksize=max(1, len(sources) // (workers * 8)))
    for result in results:
        failed += "error" in result
        click.echo(json.dumps(result, ensure_ascii=False))
    if failed:
        sys.exit(exit_codes.PARTIAL)


@cli.command()
@click.option("--concurrency", "-c", type=click.IntRange(1, 4096),
              help="Pages under way at once (threads; READQ_FETCH_CONCURRENCY).")
@click.option("--processes", "-p", type=click.IntRange(1, 1024),
              help="Extraction processes (READQ_EXTRACT_CONCURRENCY; default: one per core).")
@click.option("--loglevel", "-l", default="INFO", show_default=True)
@click.option("--check", is_flag=True,
              help="Start nothing: exit 0 if a readq worker on this host answers, 1 if not (a container health "
                   "check).")
@json_option
def worker(concurrency: int | None, processes: int | None, loglevel: str, check: bool, as_json: bool) -> None:
    """Run a readq worker until Ctrl-C or SIGTERM (then it finishes the pages under way, for as long as one page
    may take). Each worker fetches, extracts (in processes of its own) and indexes; run more of them, on this
    machine or others, to go faster.

    \b
    Example:
        readq worker                     # threads per READQ_FETCH_CONCURRENCY, a process per core
        readq worker -c 64 -p 4          # 64 pages under way, 4 extraction processes
        readq worker --check             # does this host's worker answer?
    """
    from readq._launcher import Supervisor, stop_grace_seconds, worker_command, worker_env

    settings = get_settings()
    if check:
        _check_local_workers(as_json)
        return
    supervisor = Supervisor(stop_grace=stop_grace_seconds(settings))
    command = worker_command(settings, concurrency=concurrency, loglevel=loglevel)
    emit({"worker": command}, as_json, lambda: click.echo("starting a readq worker; Ctrl-C stops it", err=True))
    supervisor.start("worker", command, env=worker_env(settings, os.environ, concurrency=concurrency,
                                                      processes=processes))
    sys.exit(supervisor.run())


def _check_local_workers(as_json: bool) -> None:
    """Exit 0 when a worker of this host (Celery names it ``...@hostname``) consumes every readq queue."""
    from config.celery import Queue
    from readq._client import Client

    with Client(get_settings()) as client:
        client.check_redis()
        host = socket.gethostname()
        here = {name: queues for name, queues in client.workers(timeout=WORKER_CHECK_TIMEOUT).items()
                if name.rpartition("@")[2] == host}
    missing = [queue.value for queue in Queue if not any(queue.value in queues for queues in here.values())]
    emit({"host": host, "workers": here, "missing": missing}, as_json, lambda: click.echo(
        f"no worker on {host} consumes {', '.join(missing)}" if missing
        else f"ok: {', '.join(sorted(here))} answer", err=bool(missing)))
    if missing:
        sys.exit(exit_codes.UNAVAILABLE)


@cli.command()
@click.option("--state-dir", type=click.Path(path_type=Path), default=Path(".readq"), show_default=True,
              help="Where started services keep their data and logs.")
@json_option
def dev(state_dir: Path, as_json: bool) -> None:
    """Run readq locally without Docker: Redis and Elasticsearch (started if absent), workers and Flower.

    \b
    Example:
        readq dev        # what `make dev` runs; Ctrl-C stops everything it started
    """
    from readq._dev import run_dev

    def say(message: str) -> None:
        emit({"event": message}, as_json, lambda: click.echo(f"readq dev: {message}", err=True))

    sys.exit(run_dev(get_settings(), state_dir=state_dir, say=say))


@cli.command()
@json_option
@with_client
def doctor(client: Client, as_json: bool) -> None:
    """Check Redis, Elasticsearch (version, templates, aliases) and the workers of every queue; say how to fix
    what is wrong. Exit 0 when nothing failed (warnings allowed), 1 otherwise.

    \b
    Example:
        readq doctor
    """
    from readq._doctor import FAIL, run_checks

    checks = run_checks(client)
    marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
    emit([c.to_dict() for c in checks], as_json, lambda: click.echo("\n".join(
        f"{marks[c.level]}  {c.name}: {c.detail}" + (f"\n      fix: {c.fix}" if c.fix else "") for c in checks)))
    if any(c.level == FAIL for c in checks):
        sys.exit(exit_codes.UNAVAILABLE)


@cli.command()
@click.option("--kibana", "kibana_url", metavar="URL",
              help="Also import the Kibana data views, saved search and dashboard there (default: READQ_KIBANA_URL).")
@click.option("--migrate", is_flag=True,
              help="Move the pages into a new index of the current mapping behind the alias, without downtime.")
@json_option
@with_client
def setup(client: Client, kibana_url: str | None, migrate: bool, as_json: bool) -> None:
    """Install the Elasticsearch index templates and create the aliases' first indices; optionally import the
    Kibana objects. Idempotent.

    An index made by an older readq keeps its old mapping (a mapping cannot change in place): --migrate copies
    its documents into a new index, swaps the alias over in one step and deletes the old index, while workers
    and searches carry on.

    \b
    Example:
        readq setup --kibana http://127.0.0.1:5601
        readq setup --migrate
    """
    client.check()
    created = client.install_templates()
    settings = client.settings
    if migrate:
        def step(name: str, detail: str) -> None:
            if not as_json:
                click.echo(f"migrate: {name} {detail}", err=True)

        migration = client.migrate(on_step=step)
        emit({"migration": migration.to_dict() if migration else None}, as_json,
             lambda: click.echo(f"{migration.alias} now on {migration.target}: {migration.copied} documents copied"
                                f" from {', '.join(migration.drained)}" if migration
                                else "nothing to migrate: every index has the current mapping"))
        return
    kibana_url = kibana_url or settings.kibana_url
    imported = client.import_kibana_objects(kibana_url) if kibana_url else None
    emit({"templates": [settings.pages_alias, settings.status_alias], "created": created,
          "kibana_objects": imported}, as_json,
         lambda: click.echo(f"templates installed; new indices: {', '.join(created) or 'none'}"
                            + (f"; {imported} Kibana objects imported" if imported is not None else "")))


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        exc.show()
        sys.exit(exit_codes.USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exit_codes.UNAVAILABLE)
    except ReadqError as exc:  # ServiceUnavailable among them
        click.echo(f"Error: {mask_secrets(str(exc))}", err=True)
        sys.exit(exit_codes.UNAVAILABLE)
    except (KeyboardInterrupt, click.Abort):
        click.echo("interrupted", err=True)
        sys.exit(exit_codes.INTERRUPTED)
