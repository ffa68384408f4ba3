"""What a user would build instead of readq: a Scrapy spider that extracts in ``parse`` and bulk-indexes.

Scrapy with 64 concurrent requests, robots.txt and AutoThrottle off and no download delay; readability-lxml and
html-text inline in the spider's ``parse``; an item pipeline sending the items to Elasticsearch with
``elasticsearch.helpers.bulk``, 200 to a request, the rest when the spider closes. One process crawls the URLs
of one file and prints what it did as one JSON line on stdout::

    python benchmarks/peer.py --es-url http://127.0.0.1:9200 --index peer-pages --urls-file urls.txt

``benchmarks/pipeline.py --only peer`` runs one such process per core, each with an equal share of the URLs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import html_text
import scrapy
from elasticsearch import Elasticsearch, helpers
from readability import Document
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

BULK_SIZE = 200


class PagesSpider(scrapy.Spider):
    name = "pages"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            # Scrapy's download slot is the host name alone; each farm port stands for a host of its own (as it
            # does for readq's politeness), so it gets a slot of its own, as a distinct site on the web would.
            yield scrapy.Request(url, meta={"download_slot": urlsplit(url).netloc})

    def parse(self, response: Response) -> Iterator[dict[str, Any]]:
        document = Document(response.text)
        yield {"url": response.url, "title": document.short_title(),
               "text": html_text.extract_text(document.summary()), "status": response.status,
               "fetched_at": datetime.now(UTC).isoformat()}


class ElasticsearchPipeline:
    """Items to Elasticsearch with ``helpers.bulk``, ``BULK_SIZE`` a request; the id is the URL's hash."""

    def __init__(self, es_url: str, index: str, stats: StatsCollector) -> None:
        self.es_url = es_url
        self.index = index
        self.stats = stats
        self.actions: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ElasticsearchPipeline:
        assert crawler.stats is not None
        return cls(crawler.settings["PEER_ES_URL"], crawler.settings["PEER_INDEX"], crawler.stats)

    def open_spider(self) -> None:
        self.es = Elasticsearch(self.es_url)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        self.actions.append({"_index": self.index, "_id": hashlib.sha1(item["url"].encode()).hexdigest(),
                             "_source": item})
        if len(self.actions) >= BULK_SIZE:
            self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()
        self.es.close()

    def flush(self) -> None:
        if self.actions:
            indexed, _ = helpers.bulk(self.es, self.actions)
            self.stats.inc_value("elasticsearch/indexed", indexed)
            self.actions = []


def crawl(urls: list[str], es_url: str, index: str, concurrency: int) -> dict[str, Any]:
    """Crawl ``urls`` in this process; the items made and indexed, and the CPU seconds the crawl took."""
    process = CrawlerProcess({
        "CONCURRENT_REQUESTS": concurrency,
        "ROBOTSTXT_OBEY": False,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "ITEM_PIPELINES": {ElasticsearchPipeline: 300},
        "PEER_ES_URL": es_url,
        "PEER_INDEX": index,
        "LOG_LEVEL": "INFO",
        "TELNETCONSOLE_ENABLED": False,
    })
    crawler = process.create_crawler(PagesSpider)
    started = time.process_time()
    process.crawl(crawler, urls=urls)
    process.start()
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    return {"urls": len(urls), "responses": stats.get("response_received_count", 0),
            "items": stats.get("item_scraped_count", 0), "indexed": stats.get("elasticsearch/indexed", 0),
            "errors": stats.get("log_count/ERROR", 0), "cpu_s": time.process_time() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--es-url", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--urls-file", type=Path, required=True, help="one URL a line")
    parser.add_argument("--concurrency", type=int, default=64, help="Scrapy's CONCURRENT_REQUESTS")
    args = parser.parse_args(argv)
    urls = [line.strip() for line in args.urls_file.read_text().splitlines() if line.strip()]
    figures = crawl(urls, args.es_url, args.index, args.concurrency)
    print(json.dumps(figures), flush=True)
    return 0 if figures["indexed"] == figures["items"] else 1


if __name__ == "__main__":
    sys.exit(main())
