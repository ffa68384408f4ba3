"""Group commit against Elasticsearch (noida-db, or the cluster READQ_TEST_ES_URL names)."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from readq import Client
from workers.errors import DocumentRejected, ElasticsearchUnavailable
from workers.extraction.documents import content_hash, document_id
from workers.extraction.fingerprint import signature
from workers.indexing.dedup import DuplicateFinder
from workers.indexing.elastic import make_client
from workers.indexing.indexer import BulkIndexer


class CountingBulk:
    """The real client, counting its _bulk requests."""

    def __init__(self, es: Elasticsearch) -> None:
        self.es = es
        self.requests = 0

    def bulk(self, **kwargs: Any) -> Any:
        self.requests += 1
        return self.es.bulk(**kwargs)


def doc(alias: str, i: int, **fields: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [({"index": {"_index": alias, "_id": f"gc-{i}"}}, {"url": f"http://x.test/{i}", "title": "t", **fields})]


def test_concurrent_writers_share_few_bulk_requests(client: Client) -> None:
    es = CountingBulk(client.runtime.es)
    indexer = BulkIndexer(es=es, max_docs=50, max_bytes=10**7, flush_interval=0.2)  # type: ignore[arg-type]
    alias = client.settings.pages_alias
    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            list(pool.map(lambda i: indexer.write(doc(alias, i, word_count=i), timeout=30), range(100)))
    finally:
        indexer.close()

    assert es.requests <= 6  # 100 documents, at most 50 per request, plus timing slack
    client.runtime.es.indices.refresh(index=alias)
    assert client.runtime.es.count(index=alias, query={"prefix": {"url": "http://x.test/"}})["count"] == 100


def test_a_rejected_document_fails_alone(client: Client) -> None:
    indexer = BulkIndexer.from_settings(client.settings, client.runtime.es)
    alias = client.settings.pages_alias
    try:
        good = indexer.submit(doc(alias, 1001, word_count=5))
        bad = indexer.submit(doc(alias, 1002, word_count="not a number"))
        good.result(timeout=30)
        with pytest.raises(DocumentRejected, match="gc-1002"):
            bad.result(timeout=30)
    finally:
        indexer.close()


def test_an_unreachable_cluster_is_retryable_unavailability(client: Client) -> None:
    settings = client.settings.model_copy(update={"es_url": "http://127.0.0.1:1", "es_request_timeout": 2})
    indexer = BulkIndexer.from_settings(settings, make_client(settings))
    try:
        with pytest.raises(ElasticsearchUnavailable):
            indexer.write(doc("whatever", uuid.uuid4().int), timeout=30)
    finally:
        indexer.close()



def article(url: str, text: str) -> dict[str, Any]:
    return {"url": url, "text": text, "content_hash": content_hash(text), "minhash": signature(text),
            "fetched_at": "2026-11-24T10:00:00+00:00"}


def story(tag: str, extra: str = "") -> str:
    """300 words drawn from a vocabulary by ``tag``: different tags share almost no 3-word sequence."""
    words = random.Random(tag).choices([f"word{n}" for n in range(500)], k=300)
    return " ".join(words) + extra


def test_near_duplicates_are_found_within_one_group_and_in_the_index(client: Client) -> None:
    tag = uuid.uuid4().hex
    finder = DuplicateFinder.from_settings(client.settings, client.runtime.es, client.runtime.redis)
    first, near, unrelated = (article(f"http://dup.test/{tag}/{n}", text) for n, text in
                              enumerate([story(tag), story(tag, " And one more line."), story(uuid.uuid4().hex)]))
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            same_group = [pool.submit(finder.find, d, 30) for d in (first, near, unrelated)]
            originals = [f.result() for f in same_group]
        BulkIndexer.from_settings(client.settings, client.runtime.es).write(
            [({"index": {"_index": client.settings.pages_alias, "_id": document_id(first)}}, first)], timeout=30)
        client.make_searchable()
        later_copy = finder.find(article(f"http://dup.test/{tag}/copy", story(tag)), timeout=30)
        itself = finder.find(first, timeout=30)
    finally:
        finder.close()

    assert originals == [None, first["url"], None]
    assert later_copy == first["url"]
    assert itself is None  # a page re-indexed under its own URL is no one's copy


def test_dedup_never_blocks_indexing_when_the_cluster_is_unreachable(client: Client) -> None:
    settings = client.settings.model_copy(update={"es_url": "http://127.0.0.1:1", "es_request_timeout": 2})
    finder = DuplicateFinder.from_settings(settings, make_client(settings), client.runtime.redis)
    tag = uuid.uuid4().hex
    try:
        assert finder.find(article(f"http://dup.test/{tag}/a", story(tag)), timeout=30) is None
        # A copy's candidate is known from Redis, but its document cannot be read: indexing goes on unlinked.
        assert finder.find(article(f"http://dup.test/{tag}/b", story(tag)), timeout=30) is None
    finally:
        finder.close()

def test_templates_map_fields_explicitly_and_ignore_unknown_ones(client: Client) -> None:
    mapping = client.runtime.es.indices.get_mapping(index=client.settings.pages_alias)
    (index_mapping,) = mapping.body.values()
    properties = index_mapping["mappings"]["properties"]
    assert index_mapping["mappings"]["dynamic"] in (False, "false")
    assert properties["text"]["type"] == "text"
    assert properties["domain"]["type"] == "keyword"
    assert properties["published"]["type"] == "date"
    assert properties["word_count"]["type"] == "integer"
    aliases = client.runtime.es.indices.get_alias(name=client.settings.pages_alias)
    assert [a[client.settings.pages_alias].get("is_write_index") for a in
            (v["aliases"] for v in aliases.body.values())] == [True]
    assert client.install_templates() == []  # idempotent: nothing new the second time
