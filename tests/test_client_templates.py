"""hx's client builds bodyless requests from templates: the same requests httpx builds.

The oracle is httpx's own ``AsyncClient.build_request`` called on the same
client, so the merge of the client's headers, cookies and timeout is httpx's
and only the shortcut is under test.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from hx.client import build_client
from hx.models import RequestSpec
from hx.request.fetch import fetch
from hx.settings import AuthOptions, Settings, Timeouts
from support.server import TestServer

HOSTS = ["127.0.0.1:8080", "[::1]:8443", "example.test", "xn--bcher-kva.test:81"]
PATHS = ["/", "/a", "/a/b?q=1", "/%7Euser", "/x?y=%20&z"]
HEADER_NAMES = ["X-One", "x-two", "Accept", "User-Agent", "Host", "Authorization"]


def describe(request: httpx.Request) -> tuple[Any, ...]:
    """Everything a transport reads of a request."""
    return (
        request.method,
        str(request.url),
        request.headers.raw,
        request.extensions,
        request.content,
    )


def oracle(client: httpx.AsyncClient, *args: Any, **kwargs: Any) -> httpx.Request:
    return httpx.AsyncClient.build_request(client, *args, **kwargs)


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with build_client(settings, environ={}) as client:
        yield client


requests = st.lists(
    st.tuples(
        st.sampled_from(["GET", "HEAD", "DELETE", "get"]),
        st.sampled_from(["http", "https"]),
        st.sampled_from(HOSTS),
        st.sampled_from(PATHS),
        st.lists(
            st.tuples(st.sampled_from(HEADER_NAMES), st.sampled_from(["1", "a b", ""])),
            max_size=3,
        ).map(tuple),
        st.sampled_from([httpx.USE_CLIENT_DEFAULT, 1.5, None, 30]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(requests=requests, client_headers=st.sampled_from([(), (("X-Client", "c"),)]))
def test_requests_are_those_httpx_builds(
    requests: list[tuple[Any, ...]], client_headers: tuple[tuple[str, str], ...]
) -> None:
    async def main() -> None:
        async with client_for(Settings(headers=client_headers)) as client:
            for method, scheme, host, path, headers, timeout in requests:
                url = httpx.URL(f"{scheme}://{host}{path}")
                expected = oracle(client, method, url, headers=headers, timeout=timeout)
                for _ in range(3):  # httpx's own, then the template's first copy, then another
                    built = client.build_request(method, url, headers=headers, timeout=timeout)
                    assert describe(built) == describe(expected)
            assert all(client._templates.values())  # type: ignore[attr-defined]

    asyncio.run(main())


def test_each_request_has_its_own_headers_and_extensions() -> None:
    async def main() -> None:
        async with client_for(Settings()) as client:
            url = httpx.URL("http://127.0.0.1:1/a")
            for _ in range(2):  # the second makes the template
                copy = client.build_request("GET", url, headers=())
            copy.headers["Authorization"] = "Basic secret"  # what an auth flow does
            copy.extensions["trace"] = "mine"
            later = client.build_request("GET", url.copy_with(path="/b"), headers=())
            assert "authorization" not in later.headers
            assert "trace" not in later.extensions
            assert describe(later) == describe(oracle(client, "GET", later.url, headers=()))

    asyncio.run(main())


BEYOND_HEADERS: list[dict[str, Any]] = [
    {"content": b"body"},
    {"json": {"a": 1}},
    {"data": {"a": "1"}},
    {"params": {"q": "1"}},
    {"cookies": {"c": "1"}},
    {"extensions": {"x": 1}},
    {"timeout": httpx.Timeout(3.0)},
]


def test_requests_with_more_than_headers_are_httpx_own() -> None:
    async def main() -> None:
        async with client_for(Settings()) as client:
            for kwargs in BEYOND_HEADERS:
                for url in ("http://h.test/", httpx.URL("http://h.test/")):
                    built = client.build_request("POST", url, headers=(), **kwargs)
                    expected = oracle(client, "POST", url, headers=(), **kwargs)
                    assert describe(built) == describe(expected)
            assert not client._templates  # type: ignore[attr-defined]

    asyncio.run(main())


def test_cookies_in_the_jar_are_sent(tmp_path: Path) -> None:
    jar = tmp_path / "cookies.txt"
    jar.write_text(
        "# Netscape HTTP Cookie File\n.h.test\tTRUE\t/a\tFALSE\t4102444800\tsession\ts3cr3t\n"
    )

    async def main() -> None:
        async with client_for(Settings(cookie_jar=jar)) as client:
            for path in ("/a/1", "/b", "/a/2"):
                url = httpx.URL(f"http://www.h.test{path}")
                built = client.build_request("GET", url, headers=())
                assert describe(built) == describe(oracle(client, "GET", url, headers=()))
                expected_cookie = "session=s3cr3t" if path.startswith("/a") else None
                assert built.headers.get("cookie") == expected_cookie

    asyncio.run(main())


def test_templates_are_bounded() -> None:
    async def main() -> None:
        async with client_for(Settings()) as client:
            for n in range(3000):
                for path in ("/a", "/b", "/c"):
                    url = httpx.URL(f"http://h{n}.test{path}")
                    built = client.build_request("GET", url, headers=())
                    assert describe(built) == describe(oracle(client, "GET", url, headers=()))
            assert 0 < len(client._templates) <= 1024  # type: ignore[attr-defined]

    asyncio.run(main())


def test_a_request_seen_once_makes_no_template() -> None:
    """Headers of its own on every line (a request id): each request is httpx's, and
    the client keeps no template for any."""

    async def main() -> None:
        async with client_for(Settings()) as client:
            url = httpx.URL("http://h.test/")
            for n in range(50):
                client.build_request("GET", url, headers=(("X-Request-Id", str(n)),))
            assert set(client._templates.values()) == {None}  # type: ignore[attr-defined]

    asyncio.run(main())


def test_headers_given_as_a_mapping_are_httpx_own() -> None:
    async def main() -> None:
        async with client_for(Settings()) as client:
            url = httpx.URL("http://h.test/")
            for value in ("1", "2", "3"):
                headers: Any = {"X-A": value}
                built = client.build_request("GET", url, headers=headers)
                assert built.headers["x-a"] == value
                assert describe(built) == describe(oracle(client, "GET", url, headers=headers))

    asyncio.run(main())


def test_each_request_has_its_own_timeout() -> None:
    async def main() -> None:
        async with client_for(Settings()) as client:
            url = httpx.URL("http://h.test/")
            first, second, third = (client.build_request("GET", url, headers=()) for _ in "123")
            assert first.extensions["timeout"] == third.extensions["timeout"]
            assert second.extensions["timeout"] is not third.extensions["timeout"]

    asyncio.run(main())


def test_auth_reaches_every_request(fresh_server: TestServer) -> None:
    """httpx's auth flow adds Authorization to each request's own headers."""
    settings_ = Settings(auth=AuthOptions(user="user:pass"))
    urls = [fresh_server.url(f"/json?n={n}") for n in range(1, 7)]
    specs = [RequestSpec(line=n, url=url, parsed_url=httpx.URL(url)) for n, url in enumerate(urls)]

    async def main() -> list[int | None]:
        async with client_for(settings_) as client:
            return [(await fetch(client, spec, settings_)).status for spec in specs]

    assert asyncio.run(main()) == [200] * 6
    sent = [(log.path, log.headers.get("authorization")) for log in fresh_server.requests]
    assert sent == [(f"/json?n={n}", "Basic dXNlcjpwYXNz") for n in range(1, 7)]


def test_cookie_jar_of_default_settings_accepts_nothing() -> None:
    """The templates rely on it: the jar of a run without --cookie-jar stays empty."""

    async def main() -> None:
        async with client_for(Settings(timeouts=Timeouts())) as client:
            assert isinstance(client.cookies.jar, http.cookiejar.CookieJar)
            response = httpx.Response(
                200,
                headers=[("Set-Cookie", "a=1; Path=/")],
                request=httpx.Request("GET", "http://h.test/"),
            )
            client.cookies.extract_cookies(response)
            assert not client.cookies

    asyncio.run(main())
