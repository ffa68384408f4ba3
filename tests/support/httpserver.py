"""A local HTTP server for the tests: fixture pages plus routes that misbehave on purpose."""

from __future__ import annotations

import functools
import gzip
import hashlib
import random
import sys
import threading
import time
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
VOCABULARY = (
    "harbour", "council", "budget", "river", "bridge", "station", "market", "school", "library", "winter",
    "summer", "ferry", "museum", "archive", "report", "minister", "village", "farmers", "weather", "railway",
    "hospital", "orchestra", "festival", "election", "garden", "workers", "forest", "coast", "island",
    "mountain", "engineers", "students", "history", "science",
)


@functools.cache
def _zero_deflate_blocks() -> tuple[bytes, bytes]:
    """A gzip header with the first MiB of zeros, and the bytes that each further MiB of zeros compresses to
    (identical after a full flush), so that a bomb of any size streams without compressing it all."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    head = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert block == compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head, block


class LocalSite(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: Counter[str] = Counter()
        self.log: list[tuple[float, str]] = []  # (arrival time, path) of every request
        self.robots: tuple[int, str] = (404, "")  # status and body of /robots.txt
        self.in_flight = 0
        self.max_in_flight = 0
        self.cookies_received: list[str | None] = []  # the Cookie header of each /cookies/echo request
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up early (body caps, timeouts) are part of the tests, not errors."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    def __enter__(self) -> LocalSite:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: LocalSite
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        site = self.server
        with site._lock:
            site.hits[self.path] += 1  # path and query: tests make URLs unique with a query
            site.log.append((time.time(), self.path))
            site.in_flight += 1
            site.max_in_flight = max(site.max_in_flight, site.in_flight)
        try:
            route = parts.path.strip("/").split("/", 1)
            handler = getattr(self, f"route_{route[0].replace('-', '_').replace('.', '_')}", None)
            if handler is not None:
                handler(route[1] if len(route) > 1 else "", query)
            else:
                self.send_body(404, b"<html><body>not found</body></html>")
        finally:
            with site._lock:
                site.in_flight -= 1

    def send_body(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
                  headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def route_pages(self, name: str, query: dict[str, str]) -> None:
        """/pages/<fixture>[?variant=...]: a fixture page; the query makes distinct URLs of one page."""
        path = PAGES / name
        if not path.is_file():
            self.send_body(404, b"no such fixture")
            return
        content_type = query.get("type", "text/html")
        self.send_body(200, path.read_bytes(), content_type)

    def route_variant(self, name: str, query: dict[str, str]) -> None:
        """A fixture with one sentence added at the end of its article: a near-duplicate of it."""
        html = (PAGES / name).read_text(encoding="utf-8")
        added = f"<p>{query.get('add', 'This article was updated with a short correction.')}</p>"
        self.send_body(200, html.replace("</article>", added + "</article>", 1).encode())

    def route_gen(self, seed: str, query: dict[str, str]) -> None:
        """A generated article, different for every seed: pages that are no one's duplicate."""
        rng = random.Random(seed)
        paragraphs = "".join(
            "<p>" + " ".join(rng.choice(VOCABULARY) for _ in range(60)).capitalize() + ".</p>" for _ in range(5)
        )
        title = " ".join(rng.choice(VOCABULARY) for _ in range(6)).capitalize()
        html = (f'<html lang="en"><head><title>{title} | Generated Times</title></head><body>'
                f'<nav><a href="/">Home</a></nav><article><h1>{title}</h1>{paragraphs}</article></body></html>')
        self.send_body(200, html.encode())

    route_private = route_gen

    def route_balloon(self, _: str, query: dict[str, str]) -> None:
        """Megabytes of tiny elements: cheap to send, expensive to parse and score."""
        html = "".join(f"<div><p>word{i} is here</p></div>" for i in range(int(query.get("divs", "100000"))))
        self.send_body(200, f"<html><body>{html}</body></html>".encode())

    def route_gzip(self, name: str, query: dict[str, str]) -> None:
        self.send_body(200, gzip.compress((PAGES / name).read_bytes()), headers={"Content-Encoding": "gzip"})

    def route_unsized(self, name: str, query: dict[str, str]) -> None:
        """A fixture sent without Content-Length: the body ends when the connection closes."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write((PAGES / name).read_bytes())
        self.close_connection = True

    def route_robots_txt(self, _: str, query: dict[str, str]) -> None:
        status, body = self.server.robots
        self.send_body(status, body.encode(), "text/plain")

    def route_etag(self, name: str, query: dict[str, str]) -> None:
        """A fixture with an ETag; answers 304 to a matching If-None-Match."""
        body = (PAGES / name).read_bytes()
        tag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if self.headers.get("If-None-Match") == tag:
            self.send_response(304)
            self.send_header("ETag", tag)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_body(200, body, headers={"ETag": tag})

    def route_sitemap(self, name: str, query: dict[str, str]) -> None:
        """/sitemap/index.xml lists /sitemap/pages.xml.gz, which lists ``n`` fixture URLs."""
        base = f"http://{self.headers['Host']}"
        if name == "index.xml":
            body = (f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<sitemap><loc>{base}/sitemap/pages.xml.gz?n={query.get('n', '3')}</loc></sitemap>"
                    f"</sitemapindex>").encode()
            self.send_body(200, body, "application/xml")
        else:
            locs = "".join(f"<url><loc>{base}/pages/news-de.html?sitemap={i}</loc></url>"
                           for i in range(int(query.get("n", "3"))))
            body = gzip.compress(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
                                 .encode())
            self.send_body(200, body, "application/x-gzip")

    def route_fanout(self, name: str, query: dict[str, str]) -> None:
        """/fanout/r.xml?width=W&depth=D&urls=U: a sitemap index tree D levels deep, W children each, whose leaves
        list U page URLs each (W ** D leaves)."""
        base, path = f"http://{self.headers['Host']}", name.removesuffix(".xml")
        width, depth, urls = (int(query.get(k, d)) for k, d in (("width", "100"), ("depth", "3"), ("urls", "3")))
        params = f"width={width}&amp;depth={depth}&amp;urls={urls}"
        if path.count("-") < depth:
            children = "".join(f"<sitemap><loc>{base}/fanout/{path}-{i}.xml?{params}</loc></sitemap>"
                               for i in range(width))
            body = f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>'
        else:
            locs = "".join(f"<url><loc>{base}/pages/news-de.html?fanout={path}-{j}</loc></url>" for j in range(urls))
            body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
        self.send_body(200, body.encode(), "application/xml")

    def route_feed(self, _: str, query: dict[str, str]) -> None:
        base = f"http://{self.headers['Host']}"
        items = "".join(f"<item><title>Item {i}</title><link>{base}/pages/blog-en.html?feed={i}</link></item>"
                        for i in range(int(query.get("n", "2"))))
        body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
        self.send_body(200, body.encode(), "application/rss+xml")

    def route_status(self, code: str, query: dict[str, str]) -> None:
        headers = {"Retry-After": query["retry_after"]} if "retry_after" in query else None
        self.send_body(int(code), f"<html><body>status {code}</body></html>".encode(), headers=headers)

    def route_redirect(self, _: str, query: dict[str, str]) -> None:
        self.send_body(int(query.get("code", "302")), b"", headers={"Location": query["to"]})

    def route_cookies(self, kind: str, query: dict[str, str]) -> None:
        """/cookies/set?n=&size=&domain=&to=: ``n`` cookies of ``size`` bytes (with a Domain attribute if given),
        on a page or on a redirect to ``to``; /cookies/echo: a page that records the Cookie header it got, and
        answers 431 to one over 8 KB as common servers do."""
        if kind == "echo":
            received = self.headers.get("Cookie")
            with self.server._lock:
                self.server.cookies_received.append(received)
            if received and len(received) > 8192:
                self.send_body(431, b"request header fields too large")
            else:
                self.route_pages("news-de.html", {})
            return
        domain = f"; Domain={query['domain']}" if "domain" in query else ""
        value = "v" * int(query.get("size", "10"))
        self.send_response(302 if "to" in query else 200)
        for i in range(int(query.get("n", "1"))):
            self.send_header("Set-Cookie", f"c{i}={value}; Path=/{domain}")
        if "to" in query:
            self.send_header("Location", query["to"])
        body = (PAGES / "news-de.html").read_bytes() if "to" not in query else b""
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route_loop(self, n: str, query: dict[str, str]) -> None:
        self.send_body(302, b"", headers={"Location": f"/loop/{(int(n or 0) + 1) % 2}"})

    def route_chain(self, n: str, query: dict[str, str]) -> None:
        self.send_body(302, b"", headers={"Location": f"/chain/{int(n or 0) + 1}"})

    def route_json(self, _: str, query: dict[str, str]) -> None:
        self.send_body(200, b'{"hello": "world"}', "application/json")

    def route_binary(self, _: str, query: dict[str, str]) -> None:
        self.send_body(200, bytes(range(256)) * 64, "text/html")

    def route_huge(self, _: str, query: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(10 * 1024**3))
        self.end_headers()
        self.wfile.write(b"<html>" + b"a" * 1024)

    def route_endless(self, _: str, query: dict[str, str]) -> None:
        """A chunked body that never ends."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"<p>" + b"more " * 2000 + b"</p>"
        while True:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    def route_gzip_bomb(self, _: str, query: dict[str, str]) -> None:
        """10 MB of gzip that expands to 10 GB of zeros, sent without Content-Length."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        self.close_connection = True
        head, block = _zero_deflate_blocks()
        self.wfile.write(head)
        for _ in range(10 * 1024):  # one block = 1 MiB of zeros
            self.wfile.write(block)

    def route_drip(self, name: str, query: dict[str, str]) -> None:
        """Slowloris: a page sent one byte per ``every`` seconds (default 1), each byte well within a read timeout."""
        body = (PAGES / "news-de.html").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in body:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(float(query.get("every", "1")))

    def route_charset(self, name: str, query: dict[str, str]) -> None:
        """A fixture served with whatever charset the query claims (``bogus-8``, or a lie such as ``utf-16``)."""
        self.send_body(200, (PAGES / name).read_bytes(), f"text/html; charset={query['claim']}")

    def route_nesting(self, _: str, query: dict[str, str]) -> None:
        """An article followed by 5 MB of ``<div>`` nesting."""
        depth = int(query.get("depth", "1000000"))  # 5 MB of tags
        article = (PAGES / "blog-en.html").read_bytes()
        self.send_body(200, article.replace(b"</body>", b"<div>" * depth + b"</body>"))

    def route_empty(self, _: str, query: dict[str, str]) -> None:
        self.send_body(200, b"")

    def route_typed(self, kind: str, query: dict[str, str]) -> None:
        """Non-HTML content with its true type: ``/typed/pdf``, ``/typed/png``."""
        bodies = {"pdf": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
                  "png": (b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")}
        body, content_type = bodies[kind]
        self.send_body(200, body, content_type)

    def route_flaky(self, name: str, query: dict[str, str]) -> None:
        """Fails with 503 the first ``fail`` times a given path is hit, then serves the fixture."""
        if self.server.hits[self.path] <= int(query.get("fail", "1")):
            self.send_body(503, b"try later", headers={"Retry-After": "0"})
        else:
            self.route_pages(name, {})

    def route_slow(self, name: str, query: dict[str, str]) -> None:
        time.sleep(float(query.get("delay", "1")))
        self.route_pages(name, {})
