"""hx.redact: secrets in URLs and headers never reach records or logs."""

from __future__ import annotations

import pytest

from hx.redact import SECRET_HEADERS, redact_headers, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pass@example.com/p?q=1", "https://user:***@example.com/p?q=1"),
        ("https://user:pass@example.com:8443/", "https://user:***@example.com:8443/"),
        ("https://user:p@ss@example.com/", "https://user:***@example.com/"),
        ("https://:token@example.com/", "https://:***@example.com/"),
        ("https://user:@example.com/", "https://user:***@example.com/"),
        ("http://u:p@[::1]:8080/x", "http://u:***@[::1]:8080/x"),
        ("http://u:p@[2001:db8::1]/", "http://u:***@[2001:db8::1]/"),
    ],
)
def test_password_is_redacted(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://user@example.com/p",
        "https://example.com/p",
        "http://[::1]:8080/x",
        "https://example.com/?email=a@b.example",
        "https://example.com/a@b",
        "",
        "not a url",
    ],
)
def test_url_without_password_is_unchanged(url: str) -> None:
    assert redact_url(url) == url


def test_password_in_an_unparseable_url_is_still_redacted() -> None:
    # An unclosed IPv6 bracket defeats urlsplit; the password must go anyway.
    assert redact_url("http://u:p4ss@[::1/x") == "http://u:***@[::1/x"


def test_secret_headers_are_redacted_whatever_their_case() -> None:
    headers = (
        ("Authorization", "Bearer abc"),
        ("Content-Type", "text/plain"),
        ("cookie", "a=1"),
        ("Set-Cookie", "s=2; Path=/"),
        ("X-API-Key", "k"),
        ("PROXY-AUTHORIZATION", "Basic eTp6"),
        ("Set-Cookie", "t=3"),
        ("X-Request-Id", "r1"),
    )
    assert redact_headers(headers) == (
        ("Authorization", "***"),
        ("Content-Type", "text/plain"),
        ("cookie", "***"),
        ("Set-Cookie", "***"),
        ("X-API-Key", "***"),
        ("PROXY-AUTHORIZATION", "***"),
        ("Set-Cookie", "***"),
        ("X-Request-Id", "r1"),
    )


def test_secret_header_set() -> None:
    assert SECRET_HEADERS == {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
    }


def test_custom_secret_headers() -> None:
    headers = (("Authorization", "Bearer abc"), ("X-Secret", "s"))
    assert redact_headers(headers, frozenset({"x-secret"})) == (
        ("Authorization", "Bearer abc"),
        ("X-Secret", "***"),
    )


def test_no_headers() -> None:
    assert redact_headers(()) == ()
