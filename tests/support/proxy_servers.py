"""Real HTTP and SOCKS5 proxies for the tests: pproxy (PyPI) in a child process.

``ProxyProcess(listeners)`` runs this module in a child Python: it starts one pproxy server
per listener URI on 127.0.0.1 port 0 (``http://127.0.0.1:0`` serves CONNECT and
absolute-form requests, ``socks5://127.0.0.1:0#user:pass`` is SOCKS5 with
username/password auth), prints the ports, then one log line per proxied
connection, as pproxy writes them::

    http 127.0.0.1:51234 -> 127.0.0.1:8443
    socks5 127.0.0.1:51236 -> localhost:8080

so a test can tell which requests went through a proxy, and to which host name
(``socks5h`` leaves the name for the proxy to resolve). The child stops when its
stdin closes. A child process keeps pproxy's event loop, globals (its table of
authenticated client addresses) and any warnings it raises out of pytest.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from support.server import Service

__all__ = ["ProxyProcess"]

_STARTUP_TIMEOUT = 20.0
# The directory holding the ``support`` package: the child runs from it so that
# ``-m support.proxy_servers`` finds the package.
_TESTS_DIR = Path(__file__).resolve().parents[1]


class ProxyProcess(Service):
    """pproxy serving ``listeners`` (pproxy URIs with port 0); ``ports[i]`` is listener i's."""

    __test__ = False

    def __init__(self, *listeners: str) -> None:
        self.listeners = listeners
        self.ports: list[int] = []
        self._lines: list[str] = []
        self._cond = threading.Condition()
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> ProxyProcess:
        proc = subprocess.Popen(
            [sys.executable, "-m", "support.proxy_servers", *self.listeners],
            cwd=_TESTS_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._proc = proc
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        if not ready.startswith("{"):
            rest = ready + proc.stdout.read() if proc.poll() is not None else ready
            self.stop()
            raise RuntimeError(f"pproxy did not start: {rest.strip()}")
        self.ports = json.loads(ready)["ports"]
        self._reader = threading.Thread(target=self._read, name="pproxy-log", daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            with self._cond:
                self._lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._reader is not None:
            self._reader.join(10)
        assert proc.stdout is not None
        proc.stdout.close()

    # -- the log -------------------------------------------------------------

    @property
    def lines(self) -> list[str]:
        with self._cond:
            return list(self._lines)

    def mark(self) -> int:
        """A position in the log; ``since(mark)`` gives the lines written after it."""
        return len(self.lines)

    def since(self, mark: int) -> list[str]:
        """Log lines after ``mark``, once every connection made before this call is logged.

        pproxy logs a connection before it connects onwards, so lines can only
        lag behind; a CONNECT to a fresh closed port through the first listener
        (which must need no auth) is a barrier: once its line is in, so is
        everything before it.
        """
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        target = f"127.0.0.1:{closed_port}"
        with socket.create_connection(("127.0.0.1", self.ports[0]), timeout=5) as sock:
            sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
            deadline = time.monotonic() + 10
            with self._cond:
                while not any(line.endswith(f"-> {target}") for line in self._lines[mark:]):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise AssertionError(f"pproxy never logged the barrier {target}")
                    self._cond.wait(remaining)
                lines = self._lines[mark:]
        return [line for line in lines if not line.endswith(f"-> {target}")]


# -- the child process ---------------------------------------------------------


async def _serve(listeners: list[str]) -> None:
    import pproxy

    def log(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    # authtime -1: check credentials on every connection (pproxy otherwise trusts
    # an address for 30 days once it has authenticated).
    args = {"rserver": [], "verbose": log, "authtime": -1}
    servers = [await pproxy.Server(uri).start_server(args) for uri in listeners]
    ports = [server.sockets[0].getsockname()[1] for server in servers]
    log(json.dumps({"ports": ports}))
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for server in servers:
        server.close()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1:]))
