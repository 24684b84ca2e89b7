"""Everything that shapes a run, and every default: the one source of both.

:class:`Settings` and its parts are plain frozen data. The CLI derives its
option defaults from ``Settings()`` (hx.cli.options), so the command line and
the library cannot disagree; the layers that act on a part import it from
here (hx.net.tls reads :class:`TlsOptions`, hx.batch.retry decides with
:class:`RetryPolicy`). This module imports nothing heavy: ``hx --help`` loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from hx.frozen import frozen
from hx.redact import SECRET_HEADERS
from hx.values import StatusSet

Pairs = tuple[tuple[str, str], ...]
TlsVersion = Literal["1.2", "1.3"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


@frozen
class Timeouts:
    """Per-phase timeouts in seconds; ``None`` means no limit."""

    connect: float | None = 30.0
    read: float | None = 30.0
    write: float | None = 30.0
    pool: float | None = 30.0


@frozen
class RetryPolicy:
    """When a failed attempt is tried again (hx.batch.retry applies it)."""

    retries: int = 2
    retry_on: StatusSet = StatusSet([(429, 429), (502, 504)])
    """Statuses retried (for idempotent methods)."""
    delay: float = 0.5
    """Base of the exponential backoff, seconds."""
    max_delay: float = 30.0
    """Cap of one computed wait."""
    max_time: float | None = 120.0
    """Seconds from the first attempt after which no retry starts and no wait
    (backoff, Retry-After, a host's pause) may end; None: no limit."""
    all_methods: bool = False


@frozen
class RedirectPolicy:
    """Which redirects are followed (hx.request.redirects applies it)."""

    follow: bool = True
    max_redirects: int = 20
    allow_downgrade: bool = False
    """Follow a redirect from https to http."""


@frozen
class TlsOptions:
    verify: bool = True
    cacert: Path | None = None
    capath: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    min_version: TlsVersion | None = None


@frozen
class ProxyOptions:
    proxy: str | None = None
    """--proxy: one proxy for every request."""
    noproxy: str | None = None
    """--noproxy: comma-separated hosts, domains or CIDR ranges to reach directly."""
    use_env: bool = True
    """False with --no-env-proxy."""


@frozen
class AuthOptions:
    user: str | None = None
    """--auth USER:PASS."""
    digest: bool = False
    bearer: str | None = None
    netrc: bool = False
    netrc_file: Path | None = None

    def __repr__(self) -> str:  # never print a secret, even in a debugger
        return "AuthOptions(...)"


@frozen
class Settings:
    """Everything that shapes a run; built once by the CLI, or directly by library users."""

    concurrency: int = 10
    per_host: int | None = None
    pool_size: int = 0
    """Connections the pool may hold; 0 means ``concurrency``."""
    headers: Pairs = ()
    """Sent with every request; a line's own header of the same name wins."""
    timeouts: Timeouts = Timeouts()
    redirects: RedirectPolicy = RedirectPolicy()
    http2: bool = False
    http2_prior_knowledge: bool = False
    """Speak HTTP/2 at once over cleartext (h2c)."""
    tls: TlsOptions = TlsOptions()
    proxies: ProxyOptions = ProxyOptions()
    auth: AuthOptions = AuthOptions()
    cookie_jar: Path | None = None
    verbose: int = 0
    """1: a line per request and answer on stderr; 2: headers too."""
    secret_headers: frozenset[str] = SECRET_HEADERS
    """Lower-case names of headers whose values are redacted wherever they appear
    and which are dropped when a redirect leaves the origin."""
    ok_status: StatusSet = StatusSet([(200, 399)])
    ordered: bool = False
    include_headers: bool = False
    include_body: bool = False
    output_dir: Path | None = None
    retry: RetryPolicy = RetryPolicy()
    max_time: float | None = None
    """Total seconds for one attempt, body included (a slow drip cannot hold a slot)."""
    rate: float | None = None
    """Requests per second across the batch."""
    max_size: int | None = None
    """Bytes a body may have after decoding; larger ones fail with ``too_large``."""
    per_host_rate: float | None = None
    """Requests per second to any one host."""
    backlog: int = 0
    """Requests admitted but not finished (in flight, waiting on a host, backing
    off); bounds memory. 0 means ``max(2 * concurrency, 512)``."""
    grace: float = 5.0
    """On the first Ctrl-C or SIGTERM, seconds requests in flight may take to finish."""

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.per_host is not None and self.per_host < 1:
            raise ValueError("per_host must be at least 1")

    @property
    def effective_backlog(self) -> int:
        return max(self.backlog or max(2 * self.concurrency, 512), self.concurrency)
