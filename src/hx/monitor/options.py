"""What a run does beyond one pass over its input: rounds, checks, cache, metrics.

:class:`MonitorOptions` is the part of a job (hx.run.runner.BatchJob) that
hx.monitor acts on; every default here means "off".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hx.frozen import frozen

if TYPE_CHECKING:
    from hx.models import Expectations


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
