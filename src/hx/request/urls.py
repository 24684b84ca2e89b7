"""Which URLs hx will send a request to: the same rule for input lines and redirects.

httpx.URL accepts more than a socket can honour: port 83616 (which the OS
would wrap to 18080, a service nobody named), port 0, an empty host, any
scheme. hx refuses them before any connection is made.
"""

from __future__ import annotations

import httpx

SCHEMES = ("http", "https")


def check_target(url: httpx.URL) -> None:
    """Raise ValueError saying why ``url`` cannot be requested; return if it can."""
    if url.scheme not in SCHEMES:
        raise ValueError(f"unsupported scheme {url.scheme!r} (only http and https)")
    if not url.host:
        raise ValueError("URL has no host")
    if "%" in url.host:  # httpx percent-encodes what cannot be in a host, e.g. "[bad"
        raise ValueError("invalid host in URL")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ValueError(f"port {url.port} is outside 1-65535")
