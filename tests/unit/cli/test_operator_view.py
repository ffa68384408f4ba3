"""The pure parts of what an operator sees: failure classes, wait warnings, documents as shown, URL-file lines,
the Python API's namespace, start-up imports, saved pages, `readq dev`'s rate for loopback hosts."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

import readq
from config.settings import Settings
from readq._client import Document, progress_dict
from readq._dev import LOOPBACK_REQUESTS_PER_SECOND, dev_rate_limits
from readq._extract import extract_source, read_page_file
from readq._follow import health_problems
from readq._producer import BatchReceipt, _chunks, _valid_urls
from readq.cli import tally
from workers.errors import BodyTooLarge
from workers.extraction.documents import INTERNAL_FIELDS, PageDocument, build_document
from workers.extraction.extractor import Extraction
from workers.extraction.metadata import PageMetadata
from workers.fetching.politeness import HostGate
from workers.state.failures import failure_reasons, is_permanent
from workers.state.progress import BatchProgress

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"
RETRY_HTTP_CODES = Settings(_env_file=None).retry_http_codes


@pytest.mark.parametrize(("record", "permanent"), [
    ({"reason": "http_status", "http_status": 404}, True),
    ({"reason": "http_status", "http_status": 410}, True),
    ({"reason": "http_status", "http_status": 503}, False),
    ({"reason": "http_status", "http_status": 429}, False),
    ({"reason": "http_status", "http_status": 408}, False),
    ({"reason": "http_status"}, True),
    ({"reason": "timeout"}, False),
    ({"reason": "connection_error"}, False),
    ({"reason": "robots_unavailable"}, False),
    ({"reason": "elasticsearch_unavailable"}, False),
    ({"reason": "worker_lost"}, False),
    ({"reason": "document_rejected"}, True),
    ({"reason": "too_many_redirects"}, True),
    ({"reason": "memory_limit"}, True),
])
def test_permanent_failures_are_told_from_passing_ones(record: dict[str, object], permanent: bool) -> None:
    assert is_permanent(record, RETRY_HTTP_CODES) is permanent


@given(st.integers(400, 599))
def test_an_http_failure_is_permanent_exactly_for_a_4xx_that_means_no(status: int) -> None:
    assert is_permanent({"reason": "http_status", "http_status": status}, RETRY_HTTP_CODES) == (
        status < 500 and status not in (408, 429))


def test_the_retried_http_codes_are_the_settings_ones() -> None:
    record = {"reason": "http_status", "http_status": 425}
    assert is_permanent(record, RETRY_HTTP_CODES)
    assert not is_permanent(record, frozenset({425}))
    assert is_permanent({"reason": "http_status", "http_status": 429}, frozenset({425}))


def test_failure_reasons_are_those_a_url_can_fail_with() -> None:
    reasons = failure_reasons()
    assert {"timeout", "http_status", "robots_unavailable", "document_rejected", "worker_lost", "time_limit",
            "memory_limit"} <= reasons
    assert not reasons & {"robots", "content_type", "too_large", "no_readable_content", "duplicate", "scheme"}


def test_wait_warnings_name_what_is_missing() -> None:
    everything = {"readq-1@h": ["fetch", "index"]}
    needed = ["fetch", "index"]

    assert health_problems(everything, True, needed) == []
    assert health_problems({}, True, needed) == [
        "no readq worker answers; the batch waits until one runs (`readq worker`)"]
    assert health_problems({"celery-1@h": ["fetch"]}, True, needed) == [
        "no worker consumes the index queue(s); the batch waits there (start one with `readq worker`)"]
    assert health_problems(everything, False, needed) == [
        "Elasticsearch does not answer; index tasks retry until it is back"]


def test_tally_counts_unchanged_pages() -> None:
    progress = BatchProgress(batch="b", queued=0, fetched=0, indexed=1, unchanged=8, skipped=2, failed=3,
                             created=1_700_000_000.0, updated=1_700_000_060.5)
    assert tally(progress) == "batch b: 1 indexed, 8 unchanged, 2 skipped, 3 failed of 14"
    shown = progress_dict(progress)
    assert shown["created"] == "2023-11-14T22:13:20+00:00"
    assert datetime.fromisoformat(shown["updated"]).timestamp() == 1_700_000_060


def test_documents_shown_are_the_indexed_ones_without_internal_fields() -> None:
    metadata = PageMetadata(title="T", author=None, published=None, lang="en", site_name=None, description=None,
                            canonical_url="https://example.com/c")
    extraction = Extraction(text="some words " * 50, lang="en", metadata=metadata)
    indexed = build_document(url="https://example.com/a", final_url="https://example.com/a", fetched_at="2026-01-01",
                             http_status=200, batch="b", extraction=extraction)
    shown = build_document(url="https://example.com/a", final_url="https://example.com/a", fetched_at="2026-01-01",
                           http_status=200, batch="b", extraction=extraction, fingerprint=False)

    assert "minhash" in indexed and "minhash" not in shown and indexed["text"] == shown["text"]
    assert set(indexed) == PageDocument.__required_keys__ | {"minhash"}
    assert PageDocument.__optional_keys__ == {"minhash"}
    assert [f.name for f in fields(Document)] == [name for name in indexed if name not in INTERNAL_FIELDS]
    document = Document.from_source(indexed)
    assert document.title == "T" and document.canonical_url == "https://example.com/c"
    assert "minhash" not in document.to_dict()


LINES = st.lists(st.one_of(
    st.sampled_from([f"https://example.com/{i}" for i in range(5)]),
    st.sampled_from(["", "   ", "# a comment", "  # indented comment", "not a url", "ftp://example.com/x"]),
), max_size=60)


@given(LINES, st.integers(1, 8))
def test_url_lines_comments_blanks_and_duplicates_are_each_counted_once(lines: list[str], chunk_size: int) -> None:
    receipt = BatchReceipt(batch="b")
    chunks = list(_chunks(_valid_urls(lines, receipt), chunk_size, receipt))
    valid = [line for line in lines if line.startswith("https://")]
    refused = [line for line in lines if line in ("not a url", "ftp://example.com/x")]

    assert all(len(chunk) == len(set(chunk)) for chunk in chunks)
    assert sum(map(len, chunks)) + receipt.duplicates == len(valid)
    assert receipt.refused_count == len(refused)
    assert set(receipt.refused_by_reason) <= {"no_scheme", "scheme"}
    assert receipt.refused_by_reason["no_scheme"] == lines.count("not a url")


def test_the_python_api_shows_only_its_names() -> None:
    assert dir(readq) == sorted(readq.__all__)
    assert {"Client", "Document", "enqueue", "get", "search", "progress"} <= set(readq.__all__)
    assert all(getattr(readq, name) is not None for name in readq.__all__)
    with pytest.raises(AttributeError, match="no attribute 'Runtime'"):
        _ = readq.Runtime  # type: ignore[attr-defined]


def test_extract_and_help_start_without_the_pipeline_s_engines() -> None:
    probe = ("import sys; from readq.cli import main; from readq._extract import extract_source; "
             "print(sorted(m for m in ('celery', 'elasticsearch', 'datasketch', 'redis', 'rich', 'scipy') "
             "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(loaded.replace("'", '"')) == []


def test_saved_pages_are_read_gzipped_or_not(tmp_path: Path) -> None:
    plain = (FIXTURES / "blog-en.html").read_bytes()
    zipped = tmp_path / "blog-en.html.gz"
    zipped.write_bytes(gzip.compress(plain))
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"<p>" + b"a" * 3_000_000))
    broken = tmp_path / "broken.html.gz"
    broken.write_bytes(gzip.compress(plain)[:100])

    assert read_page_file(zipped, 10_000_000) == plain == read_page_file(FIXTURES / "blog-en.html", 10_000_000)
    with pytest.raises(BodyTooLarge):
        read_page_file(bomb, 1_000_000)
    with pytest.raises(OSError, match="not a readable gzip"):
        read_page_file(broken, 10_000_000)
    from_zip, from_plain = extract_source(str(zipped)), extract_source(str(FIXTURES / "blog-en.html"))
    assert from_zip["text"] == from_plain["text"] and from_zip["title"] == from_plain["title"]
    assert "minhash" not in from_zip and "etag" not in from_zip
    assert extract_source(str(broken))["reason"] == "unreadable_file"


def test_readq_dev_lifts_the_rate_for_loopback_hosts_only() -> None:
    settings = Settings(_env_file=None, host_rate_limits={"*.example.com": 5, "localhost": 2})
    limits = dev_rate_limits(settings)
    gate = HostGate(client=redis.Redis(), prefix="t:", requests_per_second=1.0, rate_limits=limits,
                    max_concurrency=2, lease_seconds=60, error_threshold=3, backoff_max=600)

    assert gate.interval("127.0.0.1:8765") == 1 / LOOPBACK_REQUESTS_PER_SECOND
    assert gate.interval("[::1]") == 1 / LOOPBACK_REQUESTS_PER_SECOND
    assert gate.interval("localhost:8000") == 0.5  # a configured pattern wins
    assert gate.interval("news.example.com") == 0.2
    assert gate.interval("example.org") == 1.0
