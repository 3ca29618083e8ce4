"""Django's SQLite backend, with `PRAGMA optimize` as each connection closes.

SQLite keeps no statistics of its own: without `sqlite_stat1` its planner guesses how selective each
index is, and at 100,000 products it chose the wrong index for some of the lab's reads. SQLite's own
advice for short-lived connections (one per request here) is to run `PRAGMA optimize` as each one
closes. It analyses only a table that this connection used and that was never analysed or has grown
25-fold since, so almost always it does nothing. The analysis is whole, not sampled
(`analysis_limit`): sampled statistics of a column with few values, such as a record's lab or status,
are too far out to choose between indexes by, and a whole analysis of a database holding 100,000
products (750 MB) took half a second (BENCHMARKS.md, "The lab").
"""

import contextlib
import sqlite3

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def _close(self) -> None:
        raw = self.connection
        if raw is not None and not raw.in_transaction:
            # Statistics are an optimisation: a busy or read-only file must not stop the close.
            with contextlib.suppress(sqlite3.Error):
                raw.execute("PRAGMA optimize")
        super()._close()
