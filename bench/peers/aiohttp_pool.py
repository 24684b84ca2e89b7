"""One aiohttp ClientSession, N worker tasks pulling URLs from a bounded asyncio.Queue.

Usage: python aiohttp_pool.py URLS_FILE N
The file is streamed into the queue, so memory stays flat. HTTP/1.1 only (aiohttp has
no HTTP/2). Prints ok/failed counts to stderr; exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import aiohttp


async def run(path: str, n: int) -> int:
    queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=2 * n)
    counts = {"ok": 0, "failed": 0}
    connector = aiohttp.TCPConnector(limit=n)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            while (url := await queue.get()) is not None:
                try:
                    async with session.get(url) as response:
                        await response.read()
                        counts["ok" if response.status == 200 else "failed"] += 1
                except (aiohttp.ClientError, TimeoutError) as exc:
                    print(f"{url}: {exc!r}", file=sys.stderr)
                    counts["failed"] += 1

        workers = [asyncio.create_task(worker()) for _ in range(n)]
        with open(path) as f:
            for line in f:
                if url := line.strip():
                    await queue.put(url)
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)
    print(f"ok={counts['ok']} failed={counts['failed']}", file=sys.stderr)
    return 0 if counts["failed"] == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("urls")
    parser.add_argument("n", type=int)
    args = parser.parse_args()
    return asyncio.run(run(args.urls, args.n))


if __name__ == "__main__":
    sys.exit(main())
