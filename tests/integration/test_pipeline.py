"""Queue -> fetch -> extract -> index -> search, through real Redis, Celery workers, HTTP and Elasticsearch."""

from __future__ import annotations

import uuid

from config.celery import Queue
from readq import Client
from readq._services import wait_for
from tests.support.httpserver import LocalSite
from tests.support.waiting import distinctive_word, wait_finished, wait_status_records
from workers.urls import url_id


def new_batch() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def test_queued_pages_are_indexed_with_their_fields_and_searchable(workers: Client, site: LocalSite) -> None:
    urls = [site.url("/pages/news-de.html"), site.url("/pages/blog-en.html"), site.url("/pages/news-pl.html")]
    receipt = workers.enqueue(urls, new_batch())
    assert receipt.accepted == 3 and receipt.refused_count == 0

    progress = wait_finished(workers, receipt.batch)

    assert (progress.indexed, progress.skipped, progress.failed) == (3, 0, 0)
    document = workers.get(urls[0])
    assert document is not None
    assert document.url == urls[0]
    assert document.domain == "127.0.0.1"
    assert document.batch == receipt.batch
    assert document.http_status == 200
    assert document.lang == "de"
    assert document.word_count > 100
    assert len(document.content_hash) == 64
    assert document.title and "|" not in document.title
    # collapse=False: another test may have indexed the same page under another URL (near-duplicates fold)
    english = workers.search(distinctive_word(workers.get(urls[1])), lang="en", collapse=False)
    assert urls[1] in [hit.url for hit in english]
    assert all("**" in hit.snippet for hit in english)
    assert workers.search(f"{distinctive_word(workers.get(urls[1]))} lang:de").hits == []  # a filter on the language


def test_refused_skipped_and_failed_urls_carry_their_reasons(workers: Client, site: LocalSite) -> None:
    batch = new_batch()
    not_found = f"/status/404?b={batch}"
    receipt = workers.enqueue(["ftp://example.com/x", "http://user:pw@example.com/", "no url at all",
                               site.url("/json"), site.url("/pages/login-wall.html"), site.url(not_found),
                               site.url("/binary")], batch)
    assert receipt.accepted == 4
    assert dict(receipt.refused_by_reason) == {"scheme": 1, "credentials": 1, "no_scheme": 1}

    progress = wait_finished(workers, batch)

    assert (progress.indexed, progress.skipped, progress.failed) == (0, 3, 1)
    records = wait_status_records(workers, [site.url(p) for p in ("/json", "/pages/login-wall.html",
                                                                  not_found, "/binary")])
    assert records[site.url("/json")]["reason"] == "content_type"
    assert records[site.url("/binary")]["reason"] == "content_type"
    assert records[site.url("/pages/login-wall.html")]["reason"] == "no_readable_content"
    failed = records[site.url(not_found)]
    assert (failed["state"], failed["reason"], failed["http_status"], failed["attempts"]) == (
        "failed", "http_status", 404, 1)
    assert site.hits[not_found] == 1  # a permanent error is not retried


def test_transient_errors_are_retried_then_fail_with_the_attempt_count(workers: Client, site: LocalSite) -> None:
    batch = new_batch()
    flaky, down = site.url(f"/flaky/news-de.html?fail=1&b={batch}"), site.url(f"/status/503?b={batch}")
    workers.enqueue([flaky, down], batch)

    progress = wait_finished(workers, batch)

    assert (progress.indexed, progress.failed) == (1, 1)
    record = wait_status_records(workers, [down])[down]
    assert (record["reason"], record["attempts"]) == ("http_status", workers.settings.max_retries + 1)


def test_a_redelivered_task_leaves_one_document_and_one_count(workers: Client, site: LocalSite) -> None:
    batch = new_batch()
    path = f"/pages/news-pl.html?redelivery={batch}"
    url = site.url(path)
    receipt = workers.enqueue([url], batch)
    # The same message once more, as Redis would redeliver it after a worker died without acknowledging it.
    workers.celery.send_task(Queue.FETCH.task, args=(url, batch))

    wait_for(lambda: site.hits[path] == 2, "the second delivery's fetch")
    wait_for(lambda: not any(workers.queue_depths().values()), "queues and in-flight tasks to drain")
    wait_finished(workers, batch)

    assert receipt.accepted == 1
    hits = workers.runtime.es.search(index=workers.settings.pages_alias, query={"term": {"url": url}})
    assert hits["hits"]["total"]["value"] == 1
    assert hits["hits"]["hits"][0]["_id"] == url_id(url)
    progress = workers.progress(batch)
    assert progress is not None and (progress.total, progress.indexed) == (1, 1)
