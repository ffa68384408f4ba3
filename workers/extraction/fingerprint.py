"""A page's fingerprint: the MinHash signature of its text's word 3-grams (datasketch), which the index stage
compares to find near-duplicates (``workers.indexing.dedup``)."""

from __future__ import annotations

from datasketch import MinHash

NUM_PERM = 64
SHINGLE_WORDS = 3


def signature(text: str) -> list[int]:
    """The MinHash signature of the text's word 3-grams (case folded)."""
    words = text.lower().split()
    shingles = {" ".join(words[i:i + SHINGLE_WORDS]).encode() for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
    minhash = MinHash(num_perm=NUM_PERM, seed=1)
    minhash.update_batch(sorted(shingles))
    return [int(v) for v in minhash.hashvalues]
