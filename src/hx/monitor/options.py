"""What a run does beyond one pass over its input: rounds, checks, cache, metrics.

:class:`MonitorOptions` is the part of a job (hx.run.runner.BatchJob) that
hx.monitor acts on; every default here means "off".
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

from hx.frozen import frozen

if TYPE_CHECKING:
    from hx.models import Expectations

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str | int | float) -> float:
    """Seconds from ``"500ms"``, ``"30s"``, ``"5m"``, ``"1h"``, ``"1d"`` or a bare ``"2.5"``."""
    match = _DURATION.match(str(text))
    if match is None:
        raise ValueError(f"expected a duration such as 500ms, 30s, 5m or 1h, got {text!r}")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"a duration must be more than 0, got {text!r}")
    return seconds


@frozen
class Schedule:
    """``--every``, ``--rounds``, ``--reload``: the input run again and again on one client."""

    every: float
    """Seconds from the start of one round to the start of the next."""
    rounds: int | None = None
    """How many rounds; None: until stopped."""
    reload: bool = False
    """Read the input file again for each round (else once, before the first)."""


@frozen
class MonitorOptions:
    """The job's monitoring options (``hx fetch``; ``hx download`` takes metrics and fail-fast)."""

    schedule: Schedule | None = None
    expect: Expectations | None = None
    """The command line's checks; None where the command checks nothing (a line's
    ``expect`` needs an Expectations here, empty or not)."""
    cache: Path | None = None
    """``--cache``: ETag and Last-Modified per request, for conditional requests."""
    metrics_file: Path | None = None
    """``--metrics-file``: Prometheus text exposition, rewritten after each run or round."""
    fail_fast: int | None = None
    """``--fail-fast``: failed records after which no more requests start."""
