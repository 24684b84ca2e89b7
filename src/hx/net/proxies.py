"""Which proxy, if any, a URL goes through: --proxy, --noproxy and the environment.

The environment is read the way curl reads it: ``http_proxy`` (lower case
only, see "httpoxy"), ``HTTPS_PROXY``/``https_proxy``, ``ALL_PROXY``/``all_proxy``
as the fallback, and ``NO_PROXY``/``no_proxy`` for hosts to reach directly.
``--proxy`` beats the environment; ``--noproxy`` beats ``NO_PROXY``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

import httpx

from hx.errors import UsageError
from hx.frozen import frozen
from hx.redact import redact_url
from hx.settings import ProxyOptions

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


class NoProxy:
    """A NO_PROXY list: ``*``, host names (matching their subdomains), IPs and CIDR ranges."""

    def __init__(self, text: str) -> None:
        self.everything = False
        self._domains: list[str] = []
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in text.replace(" ", ",").split(","):
            entry = entry.strip().lower()
            if not entry:
                continue
            if entry == "*":
                self.everything = True
                continue
            try:
                self._networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                self._domains.append(entry.lstrip(".").removeprefix("*.").split(":")[0])

    def matches(self, host: str) -> bool:
        if self.everything:
            return True
        host = host.lower().strip("[]").rstrip(".")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return any(host == d or host.endswith("." + d) for d in self._domains)
        return any(address in network for network in self._networks) or host in self._domains


@frozen
class ProxyPlan:
    """Proxy URL per target scheme (None: direct), and the hosts that bypass them."""

    http: str | None
    https: str | None
    bypass: NoProxy

    def proxy_for(self, url: httpx.URL) -> str | None:
        proxy = self.https if url.scheme == "https" else self.http
        if proxy is None or self.bypass.matches(url.host):
            return None
        return proxy


def plan_proxies(options: ProxyOptions, environ: Mapping[str, str] = os.environ) -> ProxyPlan:
    """Resolve --proxy, --noproxy and the environment into one plan; UsageError if malformed."""
    env = environ if options.use_env else {}
    if options.noproxy is not None:
        bypass = NoProxy(options.noproxy)
    else:
        bypass = NoProxy(_first(env, "NO_PROXY", "no_proxy")[1] or "")
    if options.proxy is not None:
        proxy = check_proxy_url(options.proxy, "--proxy")
        return ProxyPlan(http=proxy, https=proxy, bypass=bypass)
    all_name, all_value = _first(env, "ALL_PROXY", "all_proxy")
    http_name, http_value = _first(env, "http_proxy")
    https_name, https_value = _first(env, "HTTPS_PROXY", "https_proxy")
    return ProxyPlan(
        http=_env_proxy(http_name, http_value) or _env_proxy(all_name, all_value),
        https=_env_proxy(https_name, https_value) or _env_proxy(all_name, all_value),
        bypass=bypass,
    )


def check_proxy_url(text: str, source: str) -> str:
    """A proxy URL with a supported scheme (``host:port`` means http://)."""
    if "://" not in text:
        text = "http://" + text
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise UsageError(f"{source}: not a valid proxy URL ({exc}): {redact_url(text)}") from None
    if url.scheme not in PROXY_SCHEMES:
        schemes = ", ".join(PROXY_SCHEMES)
        raise UsageError(f"{source}: unsupported proxy scheme {url.scheme!r} (use {schemes})")
    if not url.host:
        raise UsageError(f"{source}: proxy URL has no host: {redact_url(text)}")
    return text


def _env_proxy(name: str, value: str | None) -> str | None:
    return check_proxy_url(value, name) if value else None


def _first(env: Mapping[str, str], *names: str) -> tuple[str, str | None]:
    for name in names:
        if env.get(name):
            return name, env[name]
    return names[0], None
