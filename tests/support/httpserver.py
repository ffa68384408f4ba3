"""A local HTTP server for the tests: fixture pages plus routes that misbehave on purpose."""

from __future__ import annotations

import gzip
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"


class LocalSite(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: Counter[str] = Counter()
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
        self.server.hits[self.path] += 1  # path and query: tests make URLs unique with a query
        route = parts.path.strip("/").split("/", 1)
        handler = getattr(self, f"route_{route[0].replace('-', '_')}", None)
        if handler is not None:
            handler(route[1] if len(route) > 1 else "", query)
        else:
            self.send_body(404, b"<html><body>not found</body></html>")

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

    def route_gzip(self, name: str, query: dict[str, str]) -> None:
        self.send_body(200, gzip.compress((PAGES / name).read_bytes()), headers={"Content-Encoding": "gzip"})

    def route_unsized(self, name: str, query: dict[str, str]) -> None:
        """A fixture sent without Content-Length: the body ends when the connection closes."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write((PAGES / name).read_bytes())
        self.close_connection = True

    def route_status(self, code: str, query: dict[str, str]) -> None:
        self.send_body(int(code), f"<html><body>status {code}</body></html>".encode())

    def route_redirect(self, _: str, query: dict[str, str]) -> None:
        self.send_body(int(query.get("code", "302")), b"", headers={"Location": query["to"]})

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

    def route_flaky(self, name: str, query: dict[str, str]) -> None:
        """Fails with 503 the first ``fail`` times a given path is hit, then serves the fixture."""
        if self.server.hits[self.path] <= int(query.get("fail", "1")):
            self.send_body(503, b"try later", headers={"Retry-After": "0"})
        else:
            self.route_pages(name, {})

    def route_slow(self, name: str, query: dict[str, str]) -> None:
        time.sleep(float(query.get("delay", "1")))
        self.route_pages(name, {})
