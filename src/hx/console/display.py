"""What hx's live displays share: a rich Live (or Progress) that runs for a ``with`` block."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self


class _Runs(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


class LiveDisplay:
    """Starts ``_live`` on entering and stops it on leaving, whatever ends the block.

    ``_live`` is None off an interactive terminal: then nothing is drawn.
    Displays are transient, so stopping erases them and shows the cursor again.
    """

    def __init__(self, live: _Runs | None) -> None:
        self._live = live

    def __enter__(self) -> Self:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
