"""What hx.monitor does during one run (hx.run.runner.Run calls it).

It wraps the engine's fetcher (``--cache``, response checks), sees every
record as it is written (``--metrics-file``, ``--fail-fast``), and saves the
cache and writes the metrics at the end of each batch. With none of its
options given it changes nothing and costs a call per record.
"""

from __future__ import annotations

from hx.batch.engine import Fetcher
from hx.models import Result
from hx.monitor.assertions import Checked
from hx.monitor.cache import Conditional, ValidatorCache
from hx.monitor.metrics import Metrics
from hx.monitor.options import MonitorOptions


class Monitoring:
    def __init__(self, options: MonitorOptions) -> None:
        self._options = options
        self._failed = 0
        self._cache = ValidatorCache(options.cache) if options.cache is not None else None
        path = options.metrics_file
        self._metrics = Metrics(path) if path is not None else None

    def fetcher(self, fetcher: Fetcher) -> Fetcher:
        """``fetcher`` with the conditions and checks the options ask for around it."""
        if self._cache is not None:
            fetcher = Conditional(fetcher, self._cache)
        if self._options.expect is not None:
            fetcher = Checked(fetcher, self._options.expect)
        return fetcher

    def batch_started(self) -> None:
        self._failed = 0

    def saw(self, result: Result) -> str | None:
        """Note a record; once ``--fail-fast N`` records failed, why to send no more."""
        if self._metrics is not None:
            self._metrics.add(result)
        limit = self._options.fail_fast
        if limit is None or result.ok:
            return None
        self._failed += 1
        if self._failed != limit:
            return None
        records = "1 record" if limit == 1 else f"{limit} records"
        return f"{records} failed first (--fail-fast {limit})"

    def batch_ended(self) -> None:
        """A batch (a round) ended: keep what it learnt, tell what it saw."""
        if self._cache is not None:
            self._cache.save()
        if self._metrics is not None:
            self._metrics.write()
