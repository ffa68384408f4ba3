"""Content dedup: the LSH band keys of each page's MinHash signature (``workers.extraction.fingerprint``), held in
Redis.

Each document carries its 64-value MinHash signature, cut into 8 bands of 8 values. The band keys of the pages
indexed within ``READQ_DUPLICATE_WINDOW`` live in Redis, one hash per half window (a generation) mapping a band key
to the id of the first page that had it: one script per group of documents looks all their keys up and adds the
new ones, with no search in Elasticsearch. Pages that share a band key are candidates; the estimated Jaccard
similarity of the signatures decides (the candidates' signatures come from their documents, one ``mget``, only
when there are candidates). Syndicated copies of an article under several URLs are then linked to the first one
indexed (``duplicate_of``).

Two pages at least 0.9 similar share a band with probability 0.99 (0.77 at 0.8). Memory: about 700 bytes of Redis
per page indexed within the window (8 fields of a hash).
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any, cast

import numpy as np
import redis
from elasticsearch import ApiError, Elasticsearch, TransportError

from config.settings import Settings
from workers.extraction.documents import PageDocument
from workers.extraction.fingerprint import NUM_PERM
from workers.groupcommit import GroupCommit, Unit
from workers.urls import url_id

logger = logging.getLogger(__name__)

BANDS = 8
ROWS = NUM_PERM // BANDS
CANDIDATE_FIELDS = ["url", "minhash", "duplicate_of", "fetched_at"]

# KEYS: this generation's hash, the previous one's. ARGV: lifetime (s), then band key and page id per band.
# Answers, per band, the id of the page that had the key first ('' if none); a key new to this generation is
# added with the page's id, so a page later in the same call finds the earlier one.
_LOOKUP_AND_ADD = """#!lua
local fields = {}
for i = 2, #ARGV, 2 do fields[#fields + 1] = ARGV[i] end
local current = redis.call('HMGET', KEYS[1], unpack(fields))
local previous = redis.call('HMGET', KEYS[2], unpack(fields))
local owners, added, new = {}, {}, {}
for i, field in ipairs(fields) do
  local owner = current[i] or added[field] or previous[i]
  owners[i] = owner or ''
  if not current[i] and not added[field] then
    added[field] = ARGV[2 * i + 1]
    new[#new + 1] = field
    new[#new + 1] = ARGV[2 * i + 1]
  end
end
for start = 1, #new, 1000 do redis.call('HSET', KEYS[1], unpack(new, start, math.min(start + 999, #new))) end
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
return owners
"""


def band_keys(minhash: list[int]) -> list[bytes]:
    """The signature's LSH band keys: the band's number and 7 bytes of its values' hash (8 bytes, a compact Redis
    field)."""
    values = np.asarray(minhash, dtype=np.uint64)
    return [bytes([band]) + hashlib.blake2b(values[band * ROWS:(band + 1) * ROWS].tobytes(), digest_size=7).digest()
            for band in range(BANDS)]


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of the two pages' 3-gram sets."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / NUM_PERM


class BandIndex:
    """The LSH band keys of recently indexed pages, in Redis."""

    def __init__(self, *, client: redis.Redis, prefix: str, window: int) -> None:
        self.client = client
        self.prefix = prefix
        self.generation_seconds = max(1, window // 2)
        self._lookup_and_add = client.register_script(_LOOKUP_AND_ADD)

    def candidates(self, documents: list[PageDocument]) -> list[list[str]]:
        """For each document, the ids of other pages that share one of its band keys (earlier documents of the
        list included), most shared first; the documents' own keys are added."""
        generation = int(time.time()) // self.generation_seconds
        args: list[bytes | str | int] = [2 * self.generation_seconds]
        for document in documents:
            page = bytes.fromhex(url_id(document["url"]))
            for band in band_keys(document["minhash"]):
                args += [band, page]
        owners = self._lookup_and_add(keys=[f"{self.prefix}lsh:{generation}", f"{self.prefix}lsh:{generation - 1}"],
                                      args=args)
        found: list[list[str]] = []
        for i, document in enumerate(documents):
            own = url_id(document["url"])
            shared: dict[str, int] = {}
            for owner in owners[i * BANDS:(i + 1) * BANDS]:
                if owner and (owner_id := bytes(owner).hex()) != own:
                    shared[owner_id] = shared.get(owner_id, 0) + 1
            found.append(sorted(shared, key=lambda candidate: -shared[candidate]))
        return found


def find_originals(bands: BandIndex, es: Elasticsearch, alias: str, documents: list[PageDocument],
                   threshold: float) -> list[str | None]:
    """For each document, the URL of a page with nearly the same text, other than itself: one indexed within the
    window, or one before it in ``documents``; None if none, or if a candidate's document cannot be read now
    (dedup never blocks indexing)."""
    candidates = bands.candidates(documents)
    in_group = {url_id(d["url"]): i for i, d in enumerate(documents)}
    wanted = sorted({c for found in candidates for c in found if c not in in_group})
    indexed: dict[str, dict[str, Any]] = {}
    if wanted:
        try:
            response = es.mget(index=alias, ids=wanted, source_includes=CANDIDATE_FIELDS)
            indexed = {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}
        except (ApiError, TransportError) as exc:
            logger.info("near-duplicate candidates not read: %s", exc)
    originals: list[str | None] = []
    for document, found in zip(documents, candidates, strict=True):
        others = [indexed[c] if c in indexed else _as_candidate(documents, originals, in_group[c])
                  for c in found if c in indexed or (c in in_group and in_group[c] < len(originals))]
        originals.append(_first_duplicated(document, others, threshold))
    return originals


def _as_candidate(documents: list[PageDocument], originals: list[str | None], i: int) -> dict[str, Any]:
    """An earlier document of the same group, as a candidate: its own original already decided."""
    return {"url": documents[i]["url"], "minhash": documents[i]["minhash"], "duplicate_of": originals[i],
            "fetched_at": documents[i].get("fetched_at")}


def _first_duplicated(document: PageDocument, candidates: list[dict[str, Any]], threshold: float) -> str | None:
    """The original of the candidate ``document`` duplicates, the earliest fetched when there are several."""
    duplicated = [other for other in candidates
                  if similarity(other.get("minhash") or [0] * NUM_PERM, document["minhash"]) >= threshold]
    if not duplicated:
        return None
    first = min(duplicated, key=lambda other: str(other.get("fetched_at") or ""))
    return str(first.get("duplicate_of") or first["url"])


class DuplicateFinder(GroupCommit[PageDocument]):
    """:func:`find_originals` for many threads at once: the index stage's documents, grouped like its bulk
    requests, so that near-duplicates are found with one Redis script per group, and within the group too."""

    def __init__(self, *, bands: BandIndex, es: Elasticsearch, alias: str, threshold: float, max_items: int,
                 flush_interval: float) -> None:
        self.bands = bands
        self.es = es
        self.alias = alias
        self.threshold = threshold
        super().__init__(max_items=max_items, flush_interval=flush_interval, name="readq-dedup")

    @classmethod
    def from_settings(cls, settings: Settings, es: Elasticsearch, client: redis.Redis) -> DuplicateFinder:
        bands = BandIndex(client=client, prefix=settings.redis_prefix, window=settings.duplicate_window)
        return cls(bands=bands, es=es, alias=settings.pages_alias, threshold=settings.duplicate_similarity,
                   max_items=settings.bulk_max_docs, flush_interval=settings.bulk_flush_ms / 1000)

    def find(self, document: PageDocument, timeout: float) -> str | None:
        """The URL ``document`` duplicates, or None (also when no answer came within ``timeout`` seconds)."""
        return cast(str | None, self._answer_within(document, timeout))

    def _send(self, units: list[Unit[PageDocument]]) -> None:
        try:
            originals = find_originals(self.bands, self.es, self.alias, [unit.item for unit in units], self.threshold)
        except Exception:  # the flusher thread must survive anything and still answer every caller
            logger.exception("unexpected error in the near-duplicate search")
            originals = [None] * len(units)
        for unit, original in zip(units, originals, strict=True):
            unit.future.set_result(original)
