"""Redis memory per URL of the seen-set, measured: N random URL ids entered in an empty database as the
producer's admission script enters them (one field in the hash ``SeenSet.slot`` names, the minute as value).

    .venv/bin/python benchmarks/seen_memory.py --urls 1000000 --redis-url redis://127.0.0.1:6379/12
"""

from __future__ import annotations

import argparse
import hashlib
import time

import redis

from workers.state.seen import SeenSet

CHUNK = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--urls", type=int, default=1_000_000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="an EMPTY database: it is flushed")
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis_url)
    client.flushdb()
    before = int(client.info("memory")["used_memory"])
    seen = SeenSet(client=client, prefix="bench:", refetch_after=86400)
    started = time.perf_counter()
    for start in range(0, args.urls, CHUNK):
        ids = [hashlib.sha256(f"https://example.com/{i}".encode()).hexdigest()
               for i in range(start, min(start + CHUNK, args.urls))]
        with client.pipeline(transaction=False) as pipe:
            for url_id in ids:
                pipe.hset(*seen.slot(url_id), int(time.time() // 60))
            pipe.execute()
    elapsed = time.perf_counter() - started
    used = int(client.info("memory")["used_memory"]) - before
    print(f"urls            {args.urls}")
    print(f"redis_bytes     {used}")
    print(f"bytes_per_url   {used / args.urls:.1f}")
    print(f"entries_per_s   {args.urls / elapsed:.0f}")
    client.flushdb()


if __name__ == "__main__":
    main()
