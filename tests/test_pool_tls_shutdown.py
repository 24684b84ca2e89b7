"""A run over https closes every TLS connection before its event loop closes.

Found while testing https-to-http redirects (tests/test_security.py): the TLS
close (close_notify, then the peer's answer) is asynchronous, and the loop is
closed right after the batch. A server that is slow to answer the close makes
it certain that the transport is still closing at that moment.
"""

from __future__ import annotations

import gc
import ssl
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import trustme

from support.cli import hx, isolate, records
from support.server import TestServer, _Handler


class _SlowToCloseHandler(_Handler):
    def _route(self, path: str, headers: dict[str, str], body: bytes) -> None:
        super()._route(path, headers, body)
        self.wfile.flush()
        time.sleep(0.3)  # read nothing, so the client's close_notify goes unanswered a while


class SlowToCloseServer(TestServer):
    handler_class: ClassVar[type[_Handler]] = _SlowToCloseHandler


@pytest.fixture
def slow_to_close(tls_ca: trustme.CA) -> Iterator[TestServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1").configure_cert(context)
    with SlowToCloseServer(ssl_context=context) as srv:
        yield srv
    assert not srv.errors


def test_https_run_leaves_no_transport_open(
    slow_to_close: TestServer, tls_ca_pem: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    isolate(monkeypatch, tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = hx("fetch", "-", "-q", "--cacert", tls_ca_pem, input=slow_to_close.url("/json"))
        gc.collect()

    assert result.exit_code == 0, result.stderr
    assert records(result)[0]["status"] == 200
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
