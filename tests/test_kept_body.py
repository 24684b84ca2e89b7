"""A body hx keeps in memory (--body, body checks) is bounded even without --max-size."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from hx.client import build_client
from hx.errors import ErrorKind
from hx.models import RequestSpec, Result
from hx.request import fetch as fetch_module
from hx.request.fetch import fetch
from hx.settings import Settings
from support.server import TestServer


def fetched(url: str, settings: Settings) -> Result:
    async def main() -> Result:
        async with build_client(settings, environ={}) as client:
            spec = RequestSpec(line=1, url=url, parsed_url=httpx.URL(url))
            return await fetch(client, spec, settings)

    return asyncio.run(main())


@pytest.fixture
def small_bound(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(fetch_module, "MAX_KEPT_BODY", 4_000)
    return 4_000


def test_a_kept_body_past_the_bound_fails_as_too_large(
    server: TestServer, small_bound: int
) -> None:
    result = fetched(server.url("/bytes/10000"), Settings(include_body=True))
    assert result.error is not None
    assert result.error.kind == ErrorKind.TOO_LARGE
    assert result.error.message == (
        "body exceeds 4000 bytes, the most hx keeps of a body without --max-size"
    )
    assert result.body is None


def test_a_kept_body_within_the_bound_is_kept(server: TestServer, small_bound: int) -> None:
    result = fetched(server.url("/text/3000"), Settings(include_body=True))
    assert result.ok and result.body is not None and len(result.body) == 3000


def test_max_size_decides_when_given(server: TestServer, small_bound: int) -> None:
    result = fetched(server.url("/text/10000"), Settings(include_body=True, max_size=20_000))
    assert result.ok and result.body is not None and len(result.body) == 10_000
    result = fetched(server.url("/text/10000"), Settings(include_body=True, max_size=5_000))
    assert result.error is not None
    assert result.error.message == "body exceeds --max-size 5000 bytes"


def test_an_unkept_body_is_not_bounded(server: TestServer, small_bound: int) -> None:
    result = fetched(server.url("/bytes/10000"), Settings())
    assert result.ok and result.bytes == 10_000


def test_the_bound_is_16_mib() -> None:
    assert fetch_module.MAX_KEPT_BODY == 16 * 1024 * 1024
