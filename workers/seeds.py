"""Seeding: the page URLs a sitemap (or sitemap index, gzipped or not) or an RSS/Atom feed lists.

Both are fetched with the safe fetcher (same address rules, timeouts and size cap). Sitemaps are parsed with
lxml's XML parser with entity resolution and network access off; feeds with feedparser.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import feedparser
import lxml.etree

from workers.errors import BodyTooLarge, FetchError
from workers.fetcher import Fetcher

XML_TYPES = frozenset({
    "application/xml", "text/xml", "application/gzip", "application/x-gzip", "application/octet-stream",
    "text/plain",
})
FEED_TYPES = XML_TYPES | {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}
MAX_SITEMAP_DEPTH = 3  # sitemap index -> sitemap index -> sitemap
_PARSER = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)


def sitemap_urls(fetcher: Fetcher, url: str, *, depth: int = 0) -> Iterator[str]:
    """Every page ``<loc>`` of a sitemap, following sitemap indexes (at most MAX_SITEMAP_DEPTH deep)."""
    root = lxml.etree.fromstring(_ungzip(fetcher.fetch(url, accept=XML_TYPES).body, fetcher.max_body_bytes),
                                 parser=_PARSER)
    if root is None:
        raise FetchError(f"{url} is not a sitemap (no XML root)")
    kind = lxml.etree.QName(root).localname
    locations = [loc.text.strip() for loc in root.iter("{*}loc") if loc.text and loc.text.strip()]
    if kind == "sitemapindex":
        if depth >= MAX_SITEMAP_DEPTH:
            raise FetchError(f"sitemap indexes nested deeper than {MAX_SITEMAP_DEPTH} at {url}")
        for child in locations:
            yield from sitemap_urls(fetcher, child, depth=depth + 1)
    elif kind == "urlset":
        yield from locations
    else:
        raise FetchError(f"{url} is not a sitemap (root element <{kind}>)")


def feed_urls(fetcher: Fetcher, url: str) -> list[str]:
    """The entry links of an RSS or Atom feed."""
    parsed = feedparser.parse(fetcher.fetch(url, accept=FEED_TYPES).body)
    if not parsed.entries and parsed.bozo:
        raise FetchError(f"{url} is not a feed: {parsed.bozo_exception}")
    return [str(entry.link) for entry in parsed.entries if entry.get("link")]


def _ungzip(body: bytes, limit: int) -> bytes:
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    inflated = inflater.decompress(body, limit + 1)
    if len(inflated) > limit:
        raise BodyTooLarge(f"gzipped sitemap inflates past the {limit}-byte cap")
    return inflated

