"""The document readq indexes for a page, and the one path from a response's bytes to it."""

from __future__ import annotations

import hashlib
from typing import Any

from workers.extraction.decoding import decode_html
from workers.extraction.extractor import Extraction, Extractor
from workers.urls import domain_of, url_id

#: Fields readq keeps for itself (near-duplicate search, conditional re-fetch), never shown to users.
INTERNAL_FIELDS = frozenset({"minhash", "minhash_bands", "etag", "last_modified"})


def content_hash(text: str) -> str:
    """SHA-256 of the text with whitespace folded and case ignored: equal articles hash equal."""
    return hashlib.sha256(" ".join(text.lower().split()).encode("utf-8")).hexdigest()


def build_document(
    *, url: str, final_url: str, fetched_at: str, http_status: int | None, batch: str | None,
    extraction: Extraction, etag: str | None = None, last_modified: str | None = None, fingerprint: bool = True,
) -> dict[str, Any]:
    """The page's document; without ``fingerprint``, no MinHash signature (and no datasketch import: what
    ``readq extract`` shows needs none)."""
    document: dict[str, Any] = {
        "url": url,
        "final_url": final_url,
        "canonical_url": extraction.canonical_url,
        "domain": domain_of(final_url),
        "title": extraction.title,
        "text": extraction.text,
        "description": extraction.description,
        "author": extraction.author,
        "published": extraction.published,
        "lang": extraction.lang,
        "site_name": extraction.site_name,
        "fetched_at": fetched_at,
        "content_hash": content_hash(extraction.text),
        "word_count": len(extraction.text.split()),
        "http_status": http_status,
        "batch": batch,
        "etag": etag,
        "last_modified": last_modified,
        "duplicate_of": None,  # the URL of an indexed page with (nearly) the same text, set by the index stage
    }
    if fingerprint:
        from workers.extraction.fingerprint import signature  # datasketch takes a second to import

        document["minhash"] = signature(extraction.text)
    return document


def page_document(
    extractor: Extractor, body: bytes, *, content_type: str | None, url: str, final_url: str, fetched_at: str,
    http_status: int | None, batch: str | None, etag: str | None = None, last_modified: str | None = None,
    fingerprint: bool = True,
) -> dict[str, Any]:
    """Decode, extract, build: what the worker, ``readq extract`` and the benchmarks all do with a body."""
    extraction = extractor.extract(decode_html(body, content_type), final_url)
    return build_document(url=url, final_url=final_url, fetched_at=fetched_at, http_status=http_status,
                          batch=batch, extraction=extraction, etag=etag, last_modified=last_modified,
                          fingerprint=fingerprint)


def public_view(document: dict[str, Any]) -> dict[str, Any]:
    """The document without readq's internal fields."""
    return {name: value for name, value in document.items() if name not in INTERNAL_FIELDS}


def document_id(document: dict[str, Any]) -> str:
    return url_id(str(document["url"]))
