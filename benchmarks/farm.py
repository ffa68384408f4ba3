"""Many small HTTP servers on 127.0.0.1, one per port: each port is a distinct host to readq's politeness rules.

Every server answers ``/p/<i>`` with page ``i`` (modulo the pages given) after ``latency`` seconds, and
``/robots.txt`` with a 404 (no rules) after the same latency. The farm counts page responses and tracks how many
requests are in flight at once, across all servers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock, Thread


@dataclass
class FarmStats:
    """Shared by every server's handler threads; guarded by ``lock``."""

    lock: Lock = field(default_factory=Lock)
    in_flight: int = 0
    peak_in_flight: int = 0
    pages_served: int = 0
    first_page_at: float | None = None
    last_page_at: float | None = None

    def begin(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def end(self, page: bool) -> None:
        with self.lock:
            self.in_flight -= 1
            if page:
                now = time.perf_counter()
                self.pages_served += 1
                self.first_page_at = self.first_page_at or now
                self.last_page_at = now

    def reset(self) -> None:
        with self.lock:
            self.peak_in_flight, self.pages_served = self.in_flight, 0
            self.first_page_at = self.last_page_at = None


def _handler(pages: Sequence[bytes], latency: float, stats: FarmStats) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            stats.begin()
            body = None
            try:
                if latency:
                    time.sleep(latency)
                body = _page(self.path, pages)
                self._answer(body)
            finally:
                stats.end(page=body is not None)

        def _answer(self, body: bytes | None) -> None:
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html" if body is not None else "text/plain")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    return Handler


def _page(path: str, pages: Sequence[bytes]) -> bytes | None:
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "p" and parts[1].isdigit():
        return pages[int(parts[1]) % len(pages)]
    return None


class ServerFarm:
    """``hosts`` ThreadingHTTPServers on 127.0.0.1, each on its own free port."""

    def __init__(self, pages: Sequence[bytes], hosts: int, latency: float = 0.0) -> None:
        self.stats = FarmStats()
        handler = _handler(pages, latency, self.stats)
        self.servers = [ThreadingHTTPServer(("127.0.0.1", 0), handler) for _ in range(hosts)]
        for server in self.servers:
            server.daemon_threads = True
            Thread(target=server.serve_forever, kwargs={"poll_interval": 1.0}, daemon=True).start()

    def urls(self, n: int) -> list[str]:
        """N distinct URLs, spread round-robin over the hosts."""
        ports = [server.server_address[1] for server in self.servers]
        return [f"http://127.0.0.1:{ports[i % len(ports)]}/p/{i}" for i in range(n)]

    def close(self) -> None:
        # shutdown() waits for the server's next poll: ask them all at once.
        stoppers = [Thread(target=server.shutdown) for server in self.servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in self.servers:
            server.server_close()

    def __enter__(self) -> ServerFarm:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
