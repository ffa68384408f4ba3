"""``readq extract``: the pipeline's fetch-decode-extract-build path for one input, without any queue."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from config.settings import get_settings
from workers.decoding import decode_html
from workers.documents import build_document
from workers.errors import ReadqError
from workers.extractor import Extractor
from workers.fetcher import Fetcher
from workers.urls import normalize_url


@cache
def _engines() -> tuple[Fetcher, Extractor]:
    settings = get_settings()
    return Fetcher.from_settings(settings), Extractor.from_settings(settings)


def extract_source(source: str) -> dict[str, Any]:
    """The document for a file path or an http(s) URL, or ``{"source", "error", "reason"}``."""
    fetcher, extractor = _engines()
    try:
        if source.startswith(("http://", "https://")):
            url = normalize_url(source)
            page = fetcher.fetch(url)
            html = decode_html(page.body, page.content_type)
            final_url, fetched_at, status = page.final_url, page.fetched_at, page.status
        else:
            path = Path(source).resolve()
            html = decode_html(path.read_bytes(), None)
            url = final_url = path.as_uri()
            fetched_at = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
            status = None
        extraction = extractor.extract(html, final_url)
    except ReadqError as exc:
        return {"source": source, "error": str(exc), "reason": exc.reason}
    except OSError as exc:
        return {"source": source, "error": str(exc), "reason": "unreadable_file"}
    document = build_document(url=url, final_url=final_url, fetched_at=fetched_at, http_status=status,
                              batch=None, extraction=extraction)
    return {"source": source, **document}
