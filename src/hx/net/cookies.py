"""Cookies: none kept across requests by default, or a shared Netscape cookies.txt."""

from __future__ import annotations

import http.cookiejar
import os
from pathlib import Path

from hx.errors import OutputError, UsageError


def load_cookie_jar(path: Path | None) -> http.cookiejar.CookieJar:
    """The client's jar: one that accepts nothing (requests stay independent and the
    jar cannot grow over a crawl), or the cookies.txt at ``path`` if given."""
    if path is None:
        return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    jar = http.cookiejar.MozillaCookieJar(str(path))
    if path.exists():
        try:
            jar.load(ignore_discard=True)
        except (OSError, http.cookiejar.LoadError, UnicodeDecodeError) as exc:
            # A binary or mis-encoded file is not a cookies.txt: say so, naming it.
            reason = "not a text file" if isinstance(exc, UnicodeDecodeError) else exc
            raise UsageError(f"--cookie-jar {path}: {reason}") from exc
    return jar


def save_cookie_jar(jar: http.cookiejar.CookieJar, path: Path) -> None:
    """Write the jar back atomically (a partial cookies.txt would lose the session)."""
    if not isinstance(jar, http.cookiejar.MozillaCookieJar):
        return
    part = path.with_name(path.name + ".part")
    try:
        jar.save(str(part), ignore_discard=True)
        os.chmod(part, 0o600)  # it holds session secrets
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise OutputError(f"--cookie-jar {path}: {exc.strerror or exc}") from exc
