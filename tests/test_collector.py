"""hx.run.collector, and the reference cycle hx's fetcher breaks for every request."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import Iterator

import httpx
import pytest

from hx.client import build_client
from hx.models import RequestSpec
from hx.request.fetch import fetch
from hx.run import collector
from hx.settings import Settings
from support.server import TestServer


@pytest.mark.parametrize(
    ("concurrency", "expected"),
    [(1, 700), (7, 700), (20, 2_000), (1_000, 100_000), (50_000, 100_000)],
)
def test_the_young_generation_holds_a_hundred_objects_per_request(
    concurrency: int, expected: int
) -> None:
    assert collector.young_generation(concurrency, default=700) == expected


def test_a_larger_default_is_kept() -> None:
    assert collector.young_generation(20, default=5_000) == 5_000


@pytest.fixture
def collector_settings() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.fixture
def freezes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """gc.freeze and gc.unfreeze calls, recorded instead of made (the frozen count
    of a real interpreter moves as frozen objects are freed)."""
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    monkeypatch.setattr(gc, "get_freeze_count", lambda: calls.count("freeze"))
    return calls


@pytest.mark.usefixtures("collector_settings")
def test_sized_for_restores_the_collector_as_it_was(freezes: list[str]) -> None:
    gc.set_threshold(700, 10, 10)
    with collector.sized_for(500):
        assert gc.get_threshold() == (50_000, 10, 10)
        assert freezes == ["freeze"]
    assert gc.get_threshold() == (700, 10, 10)
    assert freezes == ["freeze", "unfreeze"]


@pytest.mark.usefixtures("collector_settings")
def test_a_freeze_made_before_is_left_alone(freezes: list[str]) -> None:
    gc.freeze()  # someone else's
    with collector.sized_for(100):
        pass
    assert freezes == ["freeze"]


@pytest.mark.usefixtures("collector_settings")
def test_automatic_collection_turned_off_stays_off() -> None:
    gc.set_threshold(0, 10, 10)
    with collector.sized_for(1_000):
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0


@pytest.mark.usefixtures("collector_settings")
def test_sized_for_restores_after_an_error(freezes: list[str]) -> None:
    gc.set_threshold(900, 9, 8)
    with pytest.raises(RuntimeError), collector.sized_for(1_000):
        raise RuntimeError("the run failed")
    assert gc.get_threshold() == (900, 9, 8)
    assert freezes == ["freeze", "unfreeze"]


def spec_for(line: int, url: str) -> RequestSpec:
    return RequestSpec(line=line, url=url, parsed_url=httpx.URL(url))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "path",
    ["/json", "/status/404", "/redirect/3", "/redirect-loop", "/drip?chunked=1&delay=0", "refused"],
)
def test_a_request_leaves_no_garbage_in_cycles(server: TestServer, path: str) -> None:
    """Each response, once closed, and each failure, once recorded, is freed by
    reference counting: the collector finds (almost) nothing. httpx's stream wrapper
    pointing back at its response left about 20 objects a request, or a redirect hop,
    to it; a refused connect's exception chain about 40; a chunked body's decoder,
    keeping its next step as a bound method of itself, 2."""
    settings = Settings()
    requests = 50
    refused = f"http://127.0.0.1:{closed_port()}/"

    def url(n: int) -> str:
        return (
            refused
            if path == "refused"
            else server.url(f"{path}{'&' if '?' in path else '?'}n={n}")
        )

    async def main() -> int:
        async with build_client(settings, environ={}) as client:
            # The first request opens the connection and fills the pool.
            await fetch(client, spec_for(0, url(0)), settings)
            gc.collect()
            gc.disable()
            try:
                for n in range(1, requests + 1):
                    await fetch(client, spec_for(n, url(n)), settings)
                return gc.collect()
            finally:
                gc.enable()

    assert asyncio.run(main()) < requests


def test_closed_connections_leave_no_garbage_in_cycles(server: TestServer) -> None:
    """A connection and its transport, and a connection and its response reader, point
    at each other while open; once closed, reference counting frees them (a crawl
    over many hosts closes connections all along). Ten connections closed left 60 of
    hx's objects to the collector. (asyncio's own selector transport keeps a
    bound method of itself: uvloop's does not. Only hx's objects are counted.)"""
    settings = Settings(concurrency=10)

    async def main() -> list[str]:
        async with build_client(settings, environ={}) as client:
            # Ten at once: ten connections, closed with the client.
            specs = [spec_for(n, server.url(f"/slow?delay=0.05&n={n}")) for n in range(10)]
            await asyncio.gather(*(fetch(client, spec, settings) for spec in specs))
            gc.collect()
            gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            return [type(o).__qualname__ for o in gc.garbage if _from_hx(o)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()

    assert asyncio.run(main()) == []


def _from_hx(thing: object) -> bool:
    """Is ``thing`` one of hx's objects, or a method of one?"""
    owner = getattr(thing, "__self__", thing)
    return type(owner).__module__.startswith("hx.")
