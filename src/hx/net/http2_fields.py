"""Whether a header block received over HTTP/2 is well-formed (RFC 9113 8.2 and 8.3).

hx checks the header blocks of responses itself rather than through h2's
inbound validation, which runs each field through a chain of generators and
walks names and values byte by byte in Python: a twentieth of hx's CPU per small
HTTP/2 request. Here each name and value is one regular-expression match. The
rules are h2's (tests/test_http2_fields.py holds the two to the same verdicts);
the difference is what a malformed block breaks: a stream error (RFC 9113 8.1.1)
fails its own request, where h2's check ended the whole connection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NAME = re.compile(rb":?[!-9;-@\[-~]+")
"""A field name: no controls, space, upper case, DEL or non-ASCII (RFC 9113 8.2.1),
no colon but a pseudo-header's leading one."""

_BAD_VALUE = re.compile(rb"[\x00\n\r]|\A[ \t]|[ \t]\Z")
"""NUL, CR or LF anywhere, or whitespace at either end (RFC 9113 8.2.1)."""

_CONNECTION_SPECIFIC = frozenset(
    {b"connection", b"proxy-connection", b"keep-alive", b"transfer-encoding", b"upgrade"}
)
"""Fields HTTP/2 does not carry (RFC 9113 8.2.2); ``te`` is allowed only as "trailers"."""

_PSEUDO = frozenset({b":status", b":method", b":scheme", b":authority", b":path", b":protocol"})


def malformed(headers: Iterable[tuple[bytes, bytes]], trailers: bool = False) -> str | None:
    """Why a response's header block (``trailers``: its trailer block) is malformed,
    or None if it is well-formed."""
    pseudo: set[bytes] = set()
    regular_seen = False
    for name, value in headers:
        if _NAME.fullmatch(name) is None:
            return f"invalid field name {name[:40]!r}"
        if _BAD_VALUE.search(value) is not None:
            return f"invalid value in field {name[:40]!r}"
        if name[0] == 0x3A:  # ":"
            if name not in _PSEUDO or name in pseudo or regular_seen:
                return f"misplaced pseudo-header {name[:40]!r}"
            pseudo.add(name)
        else:
            regular_seen = True
            if name in _CONNECTION_SPECIFIC or (name == b"te" and value.lower() != b"trailers"):
                return f"connection-specific field {name[:40]!r}"
    if trailers:
        return "pseudo-header in trailers" if pseudo else None
    if pseudo != {b":status"}:
        return "a response needs :status and no other pseudo-header"
    return None
