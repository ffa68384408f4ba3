"""End-to-end throughput: N pages through real readq workers, beside the in-process extraction ceiling.

Starts everything on 127.0.0.1: a Redis namespace of its own, noida-db (unless READQ_ES_URL is set), a local HTTP
server serving N distinct URLs of realistic pages, and `readq worker`. Prints one table; --json writes it too.

    .venv/bin/python benchmarks/pipeline.py --pages 500
    .venv/bin/python benchmarks/pipeline.py --pages 2000 --corpus ../shared/corpus
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.settings import Settings
from readq import Client
from tests.support.services import NoidaElasticsearch, WorkerProcess, drop_indices, wait_for
from workers.decoding import decode_html
from workers.errors import ReadqError
from workers.extractor import Extractor

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pages"


def load_pages(corpus: Path | None) -> list[bytes]:
    if corpus is None:
        return [p.read_bytes() for p in sorted(FIXTURES.glob("*.html")) if "login" not in p.name]
    return [gzip.decompress(p.read_bytes()) for p in sorted((corpus / "pages").glob("*.html.gz"))]


def serve(pages: list[bytes], latency: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if latency:
                time.sleep(latency)
            body = pages[int(self.path.strip("/").split("/")[1]) % len(pages)]
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Thread(target=server.serve_forever, daemon=True).start()
    return server


def _extract(body: bytes) -> bool:
    try:
        Extractor(min_text_chars=200).extract(decode_html(body, None), "http://bench.test/")
    except ReadqError:
        return False
    return True


def ceiling(pages: list[bytes], n: int) -> float:
    """Pages/s extracting the same N pages in-process on every core: no queue, no network, no index."""
    bodies = [pages[i % len(pages)] for i in range(n)]
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(_extract, bodies[: os.cpu_count() or 1]))  # warm-up: imports and model loading
        started = time.perf_counter()
        list(pool.map(_extract, bodies, chunksize=8))
    return n / (time.perf_counter() - started)


def run_readq(settings: Settings, base_url: str, n: int, log: Path) -> dict[str, float]:
    with Client(settings) as client:
        client.install_templates()
        worker = WorkerProcess(settings, log).start()
        try:
            wait_for(lambda: len(client.workers(timeout=0.5)) >= 3, "readq worker", 90)
            urls = [f"{base_url}/p/{i}" for i in range(n)]
            started = time.perf_counter()
            receipt = client.enqueue(urls, f"bench-{uuid.uuid4().hex[:6]}")
            enqueued = time.perf_counter() - started
            progress = wait_for(lambda: (p := client.progress(receipt.batch)) and p.finished and p,
                                "the benchmark batch", timeout=3600, interval=0.2)
            elapsed = time.perf_counter() - started
        finally:
            worker.stop()
            drop_indices(client)
    return {"pages_per_s": n / elapsed, "seconds": elapsed, "enqueue_s": enqueued,
            "indexed": progress.indexed, "skipped": progress.skipped, "failed": progress.failed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=500, help="N: URLs to push through the pipeline")
    parser.add_argument("--corpus", type=Path, help="a corpus laid out like ../shared/corpus (default: test pages)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the server waits per response")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    pages = load_pages(args.corpus)
    workdir = Path(tempfile.mkdtemp(prefix="readq-bench-"))
    es = None if os.environ.get("READQ_ES_URL") else NoidaElasticsearch(workdir / "es").start()
    server = serve(pages, args.latency)
    settings = Settings(redis_url=args.redis_url, es_url=es.url if es else os.environ["READQ_ES_URL"],
                        index_prefix=f"bench-{uuid.uuid4().hex[:6]}", allow_private_networks=True)
    try:
        top = ceiling(pages, args.pages)
        readq = run_readq(settings, f"http://127.0.0.1:{server.server_address[1]}", args.pages,
                          workdir / "worker.log")
    finally:
        server.shutdown()
        if es:
            es.stop()
    figures = {"pages": args.pages, "distinct_pages": len(pages), "cores": os.cpu_count(),
               "ceiling_pages_per_s": top, **{f"readq_{k}": v for k, v in readq.items()},
               "readq_vs_ceiling": readq["pages_per_s"] / top}
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:.3f}" if isinstance(value, float) else f"{name:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
