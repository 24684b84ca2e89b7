"""The anti-pattern: a new httpx.AsyncClient for every request, Semaphore(N)-bounded.

Usage: python httpx_client_per_request.py URLS_FILE N [--limit K]
Each request pays for a client (SSL context, pool) and a fresh connection. The bench
runs it on the first 1,000 URLs only and reports the rate it reached.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import httpx


async def run(urls: list[str], n: int) -> int:
    sem = asyncio.Semaphore(n)

    async def get(url: str) -> bool:
        async with sem:
            try:
                async with httpx.AsyncClient(timeout=60) as client:
                    response = await client.get(url)
            except httpx.HTTPError as exc:
                print(f"{url}: {exc!r}", file=sys.stderr)
                return False
            return response.status_code == 200

    results = await asyncio.gather(*(get(u) for u in urls))
    ok = sum(results)
    print(f"ok={ok} failed={len(urls) - ok}", file=sys.stderr)
    return 0 if ok == len(urls) else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("urls")
    parser.add_argument("n", type=int)
    parser.add_argument("--limit", type=int, default=0, help="use only the first K URLs")
    args = parser.parse_args()
    with open(args.urls) as f:
        urls = [line.strip() for line in f if line.strip()]
    if args.limit:
        urls = urls[: args.limit]
    return asyncio.run(run(urls, args.n))


if __name__ == "__main__":
    sys.exit(main())
