"""Credentials for the requests: basic, digest, bearer token or netrc."""

from __future__ import annotations

import netrc
from collections.abc import Generator

import httpx

from hx.errors import UsageError
from hx.settings import AuthOptions


class BearerAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


def build_auth(options: AuthOptions) -> httpx.Auth | None:
    """The client's auth; at most one scheme, chosen explicitly."""
    chosen = [
        name
        for name, given in (
            ("--auth", options.user is not None),
            ("--bearer", options.bearer is not None),
            ("--netrc", options.netrc or options.netrc_file is not None),
        )
        if given
    ]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} cannot be used together")
    if options.digest and options.user is None:
        raise UsageError("--digest needs --auth USER:PASS")
    if options.user is not None:
        user, sep, password = options.user.partition(":")
        if not sep or not user:
            raise UsageError("--auth: expected USER:PASS")
        return (
            httpx.DigestAuth(user, password) if options.digest else httpx.BasicAuth(user, password)
        )
    if options.bearer is not None:
        if not options.bearer or any(ch in options.bearer for ch in "\r\n"):
            raise UsageError("--bearer: the token is empty or contains a line break")
        return BearerAuth(options.bearer)
    if options.netrc or options.netrc_file is not None:
        try:
            return httpx.NetRCAuth(str(options.netrc_file) if options.netrc_file else None)
        except (OSError, netrc.NetrcParseError, UnicodeDecodeError) as exc:
            name = options.netrc_file or "~/.netrc"
            reason = "not a text file" if isinstance(exc, UnicodeDecodeError) else exc
            raise UsageError(f"--netrc {name}: {reason}") from exc
    return None
