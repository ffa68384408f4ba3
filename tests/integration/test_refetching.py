"""Never twice without reason: the seen-set, content dedup, conditional re-fetch, retries and seeding."""

from __future__ import annotations

import uuid

from readq import Client
from tests.support.httpserver import LocalSite
from tests.support.waiting import wait_finished, wait_status_records


def new_batch() -> str:
    return f"r-{uuid.uuid4().hex[:8]}"


def test_a_recent_url_is_not_queued_again_unless_forced(workers: Client, site: LocalSite) -> None:
    url = site.url(f"/pages/news-de.html?seen={uuid.uuid4().hex}")
    first = workers.enqueue([url], new_batch())
    again = workers.enqueue([url.replace("?", "?utm_source=mail&")], new_batch())  # same URL once normalised
    forced = workers.enqueue([url], new_batch(), force=True)

    assert (first.accepted, again.accepted, again.already_seen, forced.accepted) == (1, 0, 1, 1)
    wait_finished(workers, first.batch)
    wait_finished(workers, forced.batch)


def test_syndicated_and_near_duplicate_copies_point_to_the_original(workers: Client, site: LocalSite) -> None:
    tag = uuid.uuid4().hex
    original = site.url(f"/pages/news-de.html?syndicated={tag}&n=0")
    copies = [site.url(f"/pages/news-de.html?syndicated={tag}&n=1"), site.url(f"/variant/news-de.html?v={tag}")]
    first = workers.enqueue([original], new_batch())
    wait_finished(workers, first.batch)
    second = workers.enqueue(copies, new_batch())

    wait_finished(workers, second.batch)

    documents = [workers.get(url) for url in copies]
    assert all(d is not None and d.duplicate_of for d in documents)
    assert documents[0].content_hash != documents[1].content_hash  # type: ignore[union-attr]  # the variant is near, not exact
    origin = workers.get(documents[0].duplicate_of)  # type: ignore[union-attr,arg-type]
    assert origin is not None and origin.content_hash == documents[0].content_hash  # type: ignore[union-attr]
    assert wait_status_records(workers, copies)[copies[1]]["duplicate_of"]
    unique = site.url(f"/gen/unique-{tag}")
    third = workers.enqueue([unique], new_batch())
    wait_finished(workers, third.batch)
    assert workers.get(unique).duplicate_of is None  # type: ignore[union-attr]


def test_refetching_sends_validators_and_leaves_unchanged_pages_alone(workers: Client, site: LocalSite) -> None:
    tag = uuid.uuid4().hex
    with_etag, without = site.url(f"/etag/news-pl.html?c={tag}"), site.url(f"/pages/news-pl.html?c={tag}")
    first = workers.enqueue([with_etag, without], new_batch())
    wait_finished(workers, first.batch)
    indexed_at = workers.get(without).fetched_at  # type: ignore[union-attr]

    again = workers.enqueue([with_etag, without], new_batch(), force=True)
    progress = wait_finished(workers, again.batch)

    assert (progress.unchanged, progress.indexed) == (2, 0)
    assert wait_status_records(workers, [with_etag], batch=again.batch)[with_etag]["http_status"] == 304
    assert workers.get(without).fetched_at == indexed_at  # type: ignore[union-attr]


def test_failed_urls_are_listed_and_retried(workers: Client, site: LocalSite) -> None:
    flaky = site.url(f"/flaky/news-de.html?fail=3&r={uuid.uuid4().hex}")  # fails 3 attempts: max_retries is 2
    batch = new_batch()
    workers.enqueue([flaky], batch)
    assert wait_finished(workers, batch).failed == 1
    wait_status_records(workers, [flaky])
    workers.make_searchable()

    listed = list(workers.failed(batch=batch))
    receipts = workers.retry(batch=batch)

    assert [record["url"] for record in listed] == [flaky]
    assert [r.accepted for r in receipts] == [1]
    assert wait_finished(workers, batch).indexed == 1


def test_sitemaps_and_feeds_seed_the_pages_they_list(workers: Client, site: LocalSite) -> None:
    from readq.cli import _seeded

    errors: list[object] = []
    urls = list(_seeded(workers, (site.url("/sitemap/index.xml?n=3"),),
                        (site.url("/feed?n=2"), site.url("/status/404")), errors))  # type: ignore[arg-type]

    assert sorted(urls) == sorted([site.url(f"/pages/news-de.html?sitemap={i}") for i in range(3)]
                                  + [site.url(f"/pages/blog-en.html?feed={i}") for i in range(2)])
    assert len(errors) == 1 and "404" in errors[0].message  # type: ignore[attr-defined]
