"""How one request went on the wire, as hx's own transports measure it.

Every response from hx.net.http1 and hx.net.http2 carries an ``Exchange`` in
``response.extensions["hx.exchange"]``. Durations are in milliseconds, None
for a phase that did not happen on this request: a reused connection was
neither resolved, connected nor handshaken for it; plain http has no TLS.
``transfer`` is filled in when the body ends, so read it after the body.
Proxied routes (httpcore) carry no Exchange.

What a connection's setup measured (``Connected``), and the facts of its TLS
session (``TlsInfo``), are computed once per connection and shared by every
exchange on it.
"""

from __future__ import annotations

import math
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from time import perf_counter

from hx.frozen import frozen

EXCHANGE = "hx.exchange"
"""The response extension that holds a request's Exchange."""


@frozen
class TlsInfo:
    """A TLS session and the server's leaf certificate; None for what could not be read
    (with verification off, the certificate is read only if ``cryptography`` is
    installed)."""

    version: str | None = None
    """``"TLSv1.3"``."""
    cipher: str | None = None
    """``"TLS_AES_256_GCM_SHA384"``."""
    alpn: str | None = None
    """``"h2"``, ``"http/1.1"``, or None if none was agreed."""
    not_after: str | None = None
    """When the certificate expires, RFC 3339 in UTC: ``"2027-03-01T12:00:00Z"``."""
    days_left: int | None = None
    """Whole days until ``not_after`` (negative once expired)."""
    subject_cn: str | None = None
    issuer_cn: str | None = None


@frozen
class Connected:
    """What setting up one connection took, and where it went."""

    dns: float
    connect: float
    tls: float | None
    remote_ip: str | None
    remote_port: int | None
    tls_info: TlsInfo | None

    def exchange(self, started: float, reused: bool) -> Exchange:
        """A new request's Exchange on this connection; ``reused``: not its first."""
        return Exchange(
            started,
            None if reused else self.dns,
            None if reused else self.connect,
            None if reused else self.tls,
            self.remote_ip,
            self.remote_port,
            reused,
            self.tls_info,
        )


@dataclass(slots=True)
class Exchange:
    """One request and its response, timed by the transport (milliseconds)."""

    started: float
    """``time.perf_counter()`` when the transport took the request: a caller that
    reads perf_counter() at the end has the total."""
    dns: float | None
    """Resolving the host (getaddrinfo)."""
    connect: float | None
    """The TCP connect."""
    tls: float | None
    """The TLS handshake."""
    remote_ip: str | None
    remote_port: int | None
    reused: bool
    """The connection had served an earlier request (HTTP/2: a stream on a connection
    opened for an earlier one)."""
    tls_info: TlsInfo | None
    wait: float | None = None
    """From the request fully sent to the first byte of the response (None if the
    response began first)."""
    transfer: float | None = None
    """From the first byte of the response to the last of its body."""
    _sent: float | None = field(default=None, repr=False)
    _first_byte: float | None = field(default=None, repr=False)

    def request_sent(self) -> None:
        self._sent = perf_counter()

    def response_began(self) -> None:
        """A byte of the response arrived (the first one counts)."""
        if self._first_byte is None:
            self._first_byte = now = perf_counter()
            if self._sent is not None:
                self.wait = (now - self._sent) * 1000

    def response_ended(self) -> None:
        if self._first_byte is not None:
            self.transfer = (perf_counter() - self._first_byte) * 1000


def tls_info(ssl_object: ssl.SSLObject) -> TlsInfo:
    """The facts of a TLS session, its certificate read from getpeercert()."""
    cipher = ssl_object.cipher()
    certificate = ssl_object.getpeercert()
    if certificate:  # verified: the ssl module has parsed it
        expires: float | None = ssl.cert_time_to_seconds(str(certificate["notAfter"]))
        subject = _common_name(certificate.get("subject", ()))
        issuer = _common_name(certificate.get("issuer", ()))
    else:  # verification off: getpeercert() says nothing but the DER bytes
        expires, subject, issuer = _read_der(ssl_object.getpeercert(binary_form=True))
    return TlsInfo(
        ssl_object.version(),
        cipher[0] if cipher else None,
        ssl_object.selected_alpn_protocol(),
        None if expires is None else _rfc3339(expires),
        None if expires is None else math.floor((expires - time.time()) / 86400),
        subject,
        issuer,
    )


def _common_name(name: object) -> str | None:
    """The commonName of a name as getpeercert() gives it: ((("commonName", "x"),), ...)."""
    for rdn in name if isinstance(name, tuple) else ():
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def _read_der(der: bytes | None) -> tuple[float | None, str | None, str | None]:
    """Expiry (epoch seconds), subject and issuer common names of a DER certificate,
    if ``cryptography`` is there to read it (hx does not depend on it)."""
    try:
        from cryptography import x509
        from cryptography.x509.oid import NameOID
    except ImportError:
        return None, None, None
    if der is None:
        return None, None, None
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        return None, None, None

    def common_name(name: x509.Name) -> str | None:
        attributes = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(attributes[0].value) if attributes else None

    # not_valid_after_utc is cryptography 42's; an older one (hx does not pin it) has
    # only the naive not_valid_after, in UTC.
    after = getattr(certificate, "not_valid_after_utc", None)
    if after is None:
        after = certificate.not_valid_after.replace(tzinfo=UTC)
    expires = after.timestamp()
    return expires, common_name(certificate.subject), common_name(certificate.issuer)


def _rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
