"""Response headers and bodies kept for hx.monitor's checks, then dropped unless asked for.

``fetch`` puts headers and the body into a result only when the user asks
(``--include-headers``, ``--body``). A check that needs them asks ``fetch``
through the settings it passes on, and drops them from the result it hands
back, so records are what the user asked for.
"""

from __future__ import annotations

import dataclasses

from hx.models import Result
from hx.settings import Settings


class Keeping:
    """Settings that also keep headers or the body: made once for a run's settings."""

    def __init__(self) -> None:
        self._base: Settings | None = None
        self._made: dict[tuple[bool, bool], Settings] = {}

    def settings(self, settings: Settings, headers: bool, body: bool) -> Settings:
        """``settings``, keeping headers (if ``headers``) and the body (if ``body``) as well."""
        headers = headers and not settings.include_headers
        body = body and not settings.include_body
        if not (headers or body):
            return settings
        if settings is not self._base:
            self._base, self._made = settings, {}
        made = self._made.get((headers, body))
        if made is None:
            made = self._made[headers, body] = dataclasses.replace(
                settings,
                include_headers=settings.include_headers or headers,
                include_body=settings.include_body or body,
            )
        return made


def dropped(result: Result, settings: Settings) -> Result:
    """``result`` without the headers and body that ``settings`` did not ask for."""
    if result.headers is not None and not settings.include_headers:
        result = dataclasses.replace(result, headers=None)
    if result.body is not None and not settings.include_body:
        result = dataclasses.replace(result, body=None, body_encoding=None)
    return result


def header_values(result: Result, name: str) -> list[str]:
    """The values of the response headers called ``name`` (lower case), in order."""
    return [value for key, value in result.headers or () if key.lower() == name]
