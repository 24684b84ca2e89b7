"""The one SSL context of a run: trust store, client certificate, minimum version.

Building a context loads the CA bundle (~15 ms), so a run builds exactly one
and every connection, direct or through a proxy, shares it; with the default
trust store, only once an https URL is first met.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path

from hx.errors import UsageError
from hx.settings import TlsOptions

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def shared_ssl_context(
    options: TlsOptions, environ: Mapping[str, str] = os.environ
) -> Callable[[], ssl.SSLContext]:
    """The run's context, as a function that builds it once, when first called.

    Built at once when an option names files or a minimum version, so that a
    bad one is a usage error before any request. Files named only by
    SSL_CERT_FILE or SSL_CERT_DIR (often set for every program on a machine)
    are checked to exist now and loaded on the first https URL: a plain-http
    run does not pay for a CA bundle (~20 ms).
    """
    if options.cacert or options.capath or options.cert or options.key or options.min_version:
        context = build_ssl_context(options, environ)
        return lambda: context
    checks = (("SSL_CERT_FILE", os.path.isfile), ("SSL_CERT_DIR", os.path.isdir))
    for name, exists in checks if options.verify else ():
        value = environ.get(name)
        if value and not exists(value):
            raise UsageError(
                f"{name} {value}: no such {'file' if name.endswith('FILE') else 'directory'}"
            )
    return functools.cache(lambda: build_ssl_context(options, environ))


def build_ssl_context(
    options: TlsOptions, environ: Mapping[str, str] = os.environ
) -> ssl.SSLContext:
    """A client context trusting certifi's CAs, unless --cacert/--capath or
    SSL_CERT_FILE/SSL_CERT_DIR name others."""
    # Not create_default_context(): that loads the system store we may not want.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if options.verify:
        _load_trust(context, options, environ)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if options.min_version is not None:
        context.minimum_version = _VERSIONS[options.min_version]
    if options.key is not None and options.cert is None:
        raise UsageError("--key needs --cert")
    if options.cert is not None:
        try:
            context.load_cert_chain(options.cert, options.key)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"--cert {options.cert}: {_reason(exc)}") from exc
    return context


def _load_trust(context: ssl.SSLContext, options: TlsOptions, environ: Mapping[str, str]) -> None:
    cafile = options.cacert or _env_path(environ, "SSL_CERT_FILE")
    capath = options.capath or _env_path(environ, "SSL_CERT_DIR")
    if cafile is None and capath is None:
        import certifi  # ~20 ms of imports: only for runs that use it

        cafile = Path(certifi.where())
    option = "--cacert" if options.cacert else "--capath" if options.capath else "SSL_CERT_FILE/DIR"
    if capath is not None and not capath.is_dir():
        raise UsageError(f"{option} {capath}: not a directory")
    try:
        context.load_verify_locations(cafile=cafile, capath=capath)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"{option} {cafile or capath}: {_reason(exc)}") from exc


def _env_path(environ: Mapping[str, str], name: str) -> Path | None:
    value = environ.get(name)
    return Path(value) if value else None


def _reason(exc: OSError | ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLError):
        return getattr(exc, "reason", None) or str(exc)
    return exc.strerror or str(exc)
