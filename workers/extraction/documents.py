"""The document readq indexes for a page, and the one path from a response's bytes to it."""

# No `from __future__ import annotations` here: Python 3.11's TypedDict sees NotRequired only in real annotations.

import hashlib
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

from workers.extraction.decoding import decode_html
from workers.extraction.extractor import Extraction, Extractor
from workers.extraction.text import fold_whitespace
from workers.urls import domain_of, url_id


class PageDocument(TypedDict):
    """What a page's message carries from extraction to Elasticsearch: the fields of the pages index."""

    url: str
    final_url: str
    canonical_url: str | None
    domain: str
    title: str | None
    text: str
    description: str | None
    author: str | None
    published: str | None
    lang: str | None
    site_name: str | None
    fetched_at: str
    content_hash: str
    word_count: int
    http_status: int | None
    batch: str | None
    etag: str | None
    last_modified: str | None
    duplicate_of: str | None  # the URL of an indexed page with (nearly) the same text, set by the index stage
    minhash: NotRequired[list[int]]  # the MinHash signature near-duplicates are found by


#: Fields readq keeps for itself (near-duplicate search, conditional re-fetch), never shown to users.
INTERNAL_FIELDS = frozenset({"minhash", "minhash_bands", "etag", "last_modified"})


def content_hash(text: str) -> str:
    """SHA-256 of the text with whitespace folded and case ignored: equal articles hash equal."""
    return hashlib.sha256(fold_whitespace(text.lower()).encode("utf-8")).hexdigest()


def build_document(
    *, url: str, final_url: str, fetched_at: str, http_status: int | None, batch: str | None,
    extraction: Extraction, etag: str | None = None, last_modified: str | None = None, fingerprint: bool = True,
) -> PageDocument:
    """The page's document; without ``fingerprint``, no MinHash signature (and no datasketch import: what
    ``readq extract`` shows needs none)."""
    metadata = extraction.metadata
    document: PageDocument = {
        "url": url,
        "final_url": final_url,
        "canonical_url": metadata.canonical_url,
        "domain": domain_of(final_url),
        "title": metadata.title,
        "text": extraction.text,
        "description": metadata.description,
        "author": metadata.author,
        "published": metadata.published,
        "lang": extraction.lang,
        "site_name": metadata.site_name,
        "fetched_at": fetched_at,
        "content_hash": content_hash(extraction.text),
        "word_count": len(extraction.text.split()),
        "http_status": http_status,
        "batch": batch,
        "etag": etag,
        "last_modified": last_modified,
        "duplicate_of": None,
    }
    if fingerprint:
        from workers.extraction.fingerprint import signature  # datasketch takes a second to import

        document["minhash"] = signature(extraction.text)
    return document


def page_document(
    extractor: Extractor, body: bytes, *, content_type: str | None, url: str, final_url: str, fetched_at: str,
    http_status: int | None, batch: str | None, etag: str | None = None, last_modified: str | None = None,
    fingerprint: bool = True,
) -> PageDocument:
    """Decode, extract, build: what the worker, ``readq extract`` and the benchmarks all do with a body."""
    extraction = extractor.extract(decode_html(body, content_type), final_url)
    return build_document(url=url, final_url=final_url, fetched_at=fetched_at, http_status=http_status,
                          batch=batch, extraction=extraction, etag=etag, last_modified=last_modified,
                          fingerprint=fingerprint)


def public_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document without readq's internal fields."""
    return {name: value for name, value in document.items() if name not in INTERNAL_FIELDS}


def document_id(document: Mapping[str, Any]) -> str:
    return url_id(str(document["url"]))
