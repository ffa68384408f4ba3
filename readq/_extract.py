"""``readq extract``: the pipeline's fetch-decode-extract-build path for one input, without any queue."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from config.settings import get_settings
from workers.errors import BodyTooLarge, ReadqError
from workers.extraction.documents import page_document, public_view
from workers.extraction.extractor import Extractor
from workers.fetching.fetcher import Fetcher
from workers.urls import normalize_url


@cache
def _engines() -> tuple[Fetcher, Extractor]:
    settings = get_settings()
    return Fetcher.from_settings(settings), Extractor.from_settings(settings)


def read_page_file(path: Path, max_bytes: int) -> bytes:
    """A saved page's bytes, gunzipped if the file is gzip (``.html.gz``), at most ``max_bytes`` of them."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rb") if gzipped else path.open("rb")) as page:
            body = page.read(max_bytes + 1)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise OSError(f"{path} is not a readable gzip file: {exc}") from exc
    if len(body) > max_bytes:
        raise BodyTooLarge(f"{path} holds more than {max_bytes} bytes (READQ_MAX_BODY_BYTES)")
    return body


def extract_source(source: str) -> dict[str, Any]:
    """The document for a file path (gzipped or not) or an http(s) URL, without readq's internal fields; or
    ``{"source", "error", "reason"}``."""
    fetcher, extractor = _engines()
    try:
        if source.startswith(("http://", "https://")):
            url = normalize_url(source)
            page = fetcher.fetch(url)
            body, content_type = page.body, page.content_type
            final_url, fetched_at, status = page.final_url, page.fetched_at, page.status
        else:
            path = Path(source).resolve()
            body, content_type = read_page_file(path, fetcher.max_body_bytes), None
            url = final_url = path.as_uri()
            fetched_at = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
            status = None
        document = page_document(extractor, body, content_type=content_type, url=url, final_url=final_url,
                                 fetched_at=fetched_at, http_status=status, batch=None, fingerprint=False)
    except ReadqError as exc:
        return {"source": source, "error": str(exc), "reason": exc.reason}
    except OSError as exc:
        return {"source": source, "error": str(exc), "reason": "unreadable_file"}
    return {"source": source, **public_view(document)}
