"""The common httpx recipe: one AsyncClient, a Semaphore(N), asyncio.gather over every URL.

Usage: python httpx_gather.py URLS_FILE N [--http2] [--cacert CA]
The pool is sized to N (a careful user's choice; httpx's default is 100/20).
Prints ok/failed counts to stderr; exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys

import httpx


async def run(urls: list[str], n: int, http2: bool, cacert: str | None) -> int:
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=cacert) if cacert else True
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    sem = asyncio.Semaphore(n)
    async with httpx.AsyncClient(http2=http2, verify=verify, limits=limits, timeout=60) as client:

        async def get(url: str) -> bool:
            async with sem:
                try:
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
    parser.add_argument("--http2", action="store_true")
    parser.add_argument("--cacert")
    args = parser.parse_args()
    with open(args.urls) as f:
        urls = [line.strip() for line in f if line.strip()]
    return asyncio.run(run(urls, args.n, args.http2, args.cacert))


if __name__ == "__main__":
    sys.exit(main())
