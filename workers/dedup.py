"""Content dedup: an exact hash and a near-duplicate fingerprint (MinHash over word 3-grams, via datasketch).

Each document stores its 64-value MinHash signature and 16 LSH band keys (4 values each). Pages that share a
band key are candidates; the estimated Jaccard similarity of their signatures decides. Syndicated copies of an
article under several URLs are then linked to the first one indexed (``duplicate_of``).
"""

from __future__ import annotations

import hashlib
import logging
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from datasketch import MinHash
from elasticsearch import ApiError, Elasticsearch, TransportError

from config.settings import Settings
from workers.groupcommit import GroupCommit, Unit

logger = logging.getLogger(__name__)

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE_WORDS = 3
CANDIDATES = 10
CANDIDATE_FIELDS = ("url", "content_hash", "minhash", "duplicate_of")


@dataclass(frozen=True)
class Fingerprint:
    signature: list[int]
    bands: list[str]


def fingerprint(text: str) -> Fingerprint:
    words = text.lower().split()
    shingles = {" ".join(words[i:i + SHINGLE_WORDS]).encode() for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
    minhash = MinHash(num_perm=NUM_PERM, seed=1)
    minhash.update_batch(sorted(shingles))
    signature = [int(v) for v in minhash.hashvalues]
    bands = [f"{band}:" + hashlib.blake2b(np.asarray(signature[band * ROWS:(band + 1) * ROWS], dtype=np.uint64)
                                         .tobytes(), digest_size=8).hexdigest() for band in range(BANDS)]
    return Fingerprint(signature, bands)


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of the two pages' 3-gram sets."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / NUM_PERM


def find_originals(es: Elasticsearch, alias: str, documents: list[dict[str, Any]],
                   threshold: float) -> list[str | None]:
    """For each document, the URL of a page with the same or nearly the same text, other than itself: one indexed
    already (one ``_msearch`` for all) or one before it in ``documents``; None if none, or if Elasticsearch cannot
    say now (dedup never blocks indexing)."""
    searches: list[dict[str, Any]] = []
    for document in documents:
        searches += [{"index": alias}, {"query": _candidates_query(document), "size": CANDIDATES,
                                        "sort": [{"fetched_at": "asc"}], "_source": list(CANDIDATE_FIELDS)}]
    try:
        responses = es.msearch(searches=searches)["responses"]
    except (ApiError, TransportError):
        responses = [{} for _ in documents]
    originals: list[str | None] = []
    for document, response in zip(documents, responses, strict=True):
        indexed = [hit["_source"] for hit in response.get("hits", {}).get("hits", [])]  # an error has no hits
        earlier = [{"url": d["url"], "content_hash": d["content_hash"], "minhash": d["minhash"],
                    "duplicate_of": original}  # zip stops at this document: only those before it
                   for d, original in zip(documents, originals, strict=False) if d["url"] != document["url"]]
        originals.append(_first_duplicated(document, indexed + earlier, threshold))
    return originals


def _candidates_query(document: dict[str, Any]) -> dict[str, Any]:
    return {"bool": {
        "should": [{"term": {"content_hash": document["content_hash"]}},
                   {"terms": {"minhash_bands": document["minhash_bands"]}}],
        "minimum_should_match": 1,
        "must_not": [{"term": {"url": document["url"]}}],
    }}


def _first_duplicated(document: dict[str, Any], candidates: list[dict[str, Any]], threshold: float) -> str | None:
    """The original of the first candidate whose text ``document`` duplicates."""
    for other in candidates:
        same = other.get("content_hash") == document["content_hash"]
        if same or similarity(other.get("minhash") or [0] * NUM_PERM, document["minhash"]) >= threshold:
            return str(other.get("duplicate_of") or other["url"])
    return None


class DuplicateFinder(GroupCommit[dict[str, Any]]):
    """:func:`find_originals` for many threads at once: the index stage's documents, grouped like its bulk
    requests, so that near-duplicates are found with one ``_msearch`` per group, and within the group too (neither
    copy is searchable yet when two arrive together)."""

    def __init__(self, *, es: Elasticsearch, alias: str, threshold: float, max_items: int,
                 flush_interval: float) -> None:
        self.es = es
        self.alias = alias
        self.threshold = threshold
        super().__init__(max_items=max_items, flush_interval=flush_interval, name="readq-dedup")

    @classmethod
    def from_settings(cls, settings: Settings, es: Elasticsearch) -> DuplicateFinder:
        return cls(es=es, alias=settings.pages_alias, threshold=settings.duplicate_similarity,
                   max_items=settings.bulk_max_docs, flush_interval=settings.bulk_flush_ms / 1000)

    def find(self, document: dict[str, Any], timeout: float) -> str | None:
        """The URL ``document`` duplicates, or None (also when no answer came within ``timeout`` seconds)."""
        try:
            return cast(str | None, self._enqueue(document).result(timeout=timeout))
        except FutureTimeout:
            return None

    def _send(self, units: list[Unit[dict[str, Any]]]) -> None:
        try:
            originals = find_originals(self.es, self.alias, [unit.item for unit in units], self.threshold)
        except Exception:  # the flusher thread must survive anything and still answer every caller
            logger.exception("unexpected error in the near-duplicate search")
            originals = [None] * len(units)
        for unit, original in zip(units, originals, strict=True):
            unit.future.set_result(original)
