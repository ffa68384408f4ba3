"""Content dedup: an exact hash and a near-duplicate fingerprint (MinHash over word 3-grams, via datasketch).

Each document stores its 64-value MinHash signature and 16 LSH band keys (4 values each). Pages that share a
band key are candidates; the estimated Jaccard similarity of their signatures decides. Syndicated copies of an
article under several URLs are then linked to the first one indexed (``duplicate_of``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from datasketch import MinHash
from elasticsearch import ApiError, Elasticsearch, TransportError

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE_WORDS = 3
CANDIDATES = 10


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


def find_original(es: Elasticsearch, alias: str, document: dict[str, Any], threshold: float) -> str | None:
    """URL of an indexed page with the same or nearly the same text, other than this one; None if none (or if
    Elasticsearch cannot say now: dedup never blocks indexing)."""
    query = {"bool": {
        "should": [{"term": {"content_hash": document["content_hash"]}},
                   {"terms": {"minhash_bands": document["minhash_bands"]}}],
        "minimum_should_match": 1,
        "must_not": [{"term": {"url": document["url"]}}],
    }}
    try:
        found = es.search(index=alias, query=query, size=CANDIDATES, sort=[{"fetched_at": "asc"}],
                          source_includes=["url", "content_hash", "minhash", "duplicate_of"])
    except (ApiError, TransportError):
        return None
    for hit in found["hits"]["hits"]:
        other = hit["_source"]
        same = other.get("content_hash") == document["content_hash"]
        if same or similarity(other.get("minhash") or [0] * NUM_PERM, document["minhash"]) >= threshold:
            return str(other.get("duplicate_of") or other["url"])
    return None
