"""Run ``hx fetch`` against a bundled static site on loopback; no internet needed.

Usage: ``python examples/demo.py [extra hx fetch args...]``, from any directory.

The script serves ``examples/site/`` with the standard library's
``http.server`` on 127.0.0.1 (a free port), then runs::

    hx fetch examples/urls.txt --base-url http://127.0.0.1:PORT -c 4 [extra args]

hx writes one NDJSON record per URL to stdout and a summary to stderr. One URL,
``/missing.html``, is missing on purpose, so hx reports a 404 and exits 3
("some requests failed"); the demo exits with hx's code.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SITE = HERE / "site"
URLS = HERE / "urls.txt"
NOTES = {
    0: "all requests succeeded",
    3: "some requests failed: the 404 is on purpose",
    130: "interrupted by Ctrl-C",
    141: "stdout was closed early, e.g. by `| head`",
}


class QuietHandler(SimpleHTTPRequestHandler):
    """Static file handler that keeps the server's request log off stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def run(cmd: list[str]) -> int:
    """Run hx, passing its output through, and return its exit code as a shell would."""
    with subprocess.Popen(cmd) as proc:
        while True:
            try:
                code = proc.wait()
            except KeyboardInterrupt:
                continue  # hx got the same Ctrl-C: let it finish and report
            return 128 - code if code < 0 else code  # killed by signal N -> 128 + N


def main(extra: list[str]) -> int:
    handler = partial(QuietHandler, directory=str(SITE))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-m", "hx", "fetch", str(URLS), "--base-url", base, "-c", "4"]
        cmd += extra
        try:
            code = run(cmd)
        finally:
            server.shutdown()
            thread.join()
    note = NOTES.get(code, "see `hx fetch --help` for exit codes")
    print(f"demo: hx exited {code} ({note})", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
