"""Keeping secrets out of records, logs, errors and progress."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"
# "user:password@" anywhere: after "//", at the start (no scheme), or inside text.
_USERINFO_PASSWORD = re.compile(r"""((?://|^|[\s"'])[^\s/@:"']+:)[^\s/@"']*@""")

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)


def redact_url(url: str) -> str:
    """The URL with any password in its user-info replaced by ``***``."""
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        # Unparseable, yet it may still carry "user:password@": blank it anyway.
        return _USERINFO_PASSWORD.sub(rf"\1{REDACTED}@", url)
    if parts.password is None and parts.username is None:
        # No authority urlsplit could see ("user:pw@host/x" has no scheme):
        # blank anything that still looks like credentials.
        return _USERINFO_PASSWORD.sub(rf"\1{REDACTED}@", url)
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    userinfo = f"{user}:{REDACTED}" if parts.password is not None else user
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def redact_headers(
    headers: tuple[tuple[str, str], ...], secret: frozenset[str] = SECRET_HEADERS
) -> tuple[tuple[str, str], ...]:
    """Header pairs with the values of secret headers replaced by ``***``."""
    return tuple((name, REDACTED if name.lower() in secret else value) for name, value in headers)
