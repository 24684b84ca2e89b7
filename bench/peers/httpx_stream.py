"""A plain httpx download loop: one Client, stream the body to a file.

Usage: python httpx_stream.py URL OUTPUT
"""

from __future__ import annotations

import sys

import httpx


def main() -> int:
    url, output = sys.argv[1], sys.argv[2]
    with httpx.Client(timeout=60) as client, client.stream("GET", url) as response:
        response.raise_for_status()
        with open(output, "wb") as f:
            for chunk in response.iter_bytes():
                f.write(chunk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
