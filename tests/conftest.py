"""Shared pytest fixtures: local HTTP(S) test servers, a fault server, refused/blackhole URLs."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

from support.cli import RouteServer, isolate
from support.fault_server import Blackhole, FaultServer
from support.process import TERMINAL_HINTS
from support.proxy_servers import ProxyProcess
from support.server import TestServer
from support.tls_servers import AsgiServer, Certificates, server_context

if TYPE_CHECKING:
    import trustme

# Each keeps ``errors``: what its handlers raised.
ServerT = TypeVar("ServerT", TestServer, AsgiServer)


@pytest.fixture(autouse=True)
def _off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts off a terminal, whatever the CI runner sets; those that want a
    terminal say so."""
    for name in TERMINAL_HINTS:
        monkeypatch.delenv(name, raising=False)


def _serving(srv: ServerT) -> Iterator[ServerT]:
    """Run ``srv`` for a fixture; a handler that raised fails the test that used it."""
    with srv:
        yield srv
    if srv.errors:
        pytest.fail(f"test server handler raised: {srv.errors!r}")


@pytest.fixture(scope="session")
def server() -> Iterator[TestServer]:
    """One plain-HTTP server on 127.0.0.1 for the whole session (shared request log)."""
    yield from _serving(TestServer())


@pytest.fixture
def fresh_server() -> Iterator[TestServer]:
    """A new plain-HTTP server per test: empty ``requests`` log, ``connections == 0``."""
    yield from _serving(TestServer())


@pytest.fixture
def route_server() -> Iterator[RouteServer]:
    """A new TestServer per test with the routes of support.cli.RouteServer (gauge, secrets)."""
    yield from _serving(RouteServer())


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No HX_* or proxy variables; an empty ``$XDG_CONFIG_HOME``, returned (support.cli)."""
    return isolate(monkeypatch, tmp_path)


@pytest.fixture
def refused_url() -> str:
    """An http URL on 127.0.0.1 whose port has nothing listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A new fault-injecting server per test (support/fault_server.py): fresh counters and log."""
    yield from _serving(FaultServer())


@pytest.fixture
def blackhole_url() -> Iterator[str]:
    """An http URL on 127.0.0.1 whose TCP connect never completes (times out, not refused)."""
    with Blackhole() as hole:
        yield hole.base_url


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    """A throw-away certificate authority (trustme)."""
    import trustme

    return trustme.CA()


@pytest.fixture(scope="session")
def tls_ca_pem(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CA certificate as a PEM file, for ``--cacert``-style options."""
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def tls_client_context(tls_ca: trustme.CA) -> ssl.SSLContext:
    """A client SSLContext that trusts ``tls_ca`` (pass as ``httpx.Client(verify=...)``)."""
    ctx = ssl.create_default_context()
    tls_ca.configure_trust(ctx)
    return ctx


@pytest.fixture(scope="session")
def tls_server(tls_ca: trustme.CA) -> Iterator[TestServer]:
    """An HTTPS server on 127.0.0.1 with a cert for 127.0.0.1/localhost from ``tls_ca``."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    yield from _serving(TestServer(ssl_context=ctx))


@pytest.fixture(scope="session")
def tls_certs(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """PEM files from ``tls_ca``: the CA, a client cert and key; leaves for the servers."""
    return Certificates(tls_ca, tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def h2_server(tls_certs: Certificates) -> Iterator[AsgiServer]:
    """hypercorn on 127.0.0.1 (tests/support/tls_servers.py): HTTPS with h2 and http/1.1 by ALPN,
    cert for 127.0.0.1/localhost from ``tls_ca``; ``h2c_url()`` is its cleartext port."""
    context = server_context(tls_certs.server, alpn=["h2", "http/1.1"])
    yield from _serving(AsgiServer(context))


@pytest.fixture(scope="session")
def proxies() -> Iterator[ProxyProcess]:
    """Real proxies (pproxy, tests/support/proxy_servers.py) on 127.0.0.1, with a connection log.

    ``ports[0]`` HTTP proxy, no auth; ``ports[1]`` HTTP proxy, user ``alice`` password
    ``proxy-secret``; ``ports[2]`` SOCKS5, user ``sam`` password ``socks-secret``.
    """
    listeners = (
        "http://127.0.0.1:0",
        "http://127.0.0.1:0#alice:proxy-secret",
        "socks5://127.0.0.1:0#sam:socks-secret",
    )
    with ProxyProcess(*listeners) as proc:
        yield proc
