"""Django's SQLite backend, with `PRAGMA optimize` as each connection closes.

SQLite keeps no statistics of its own: without `sqlite_stat1` its planner guesses how selective each
index is, and at 100,000 products it chose the wrong index for some of the lab's reads. SQLite's own
advice for short-lived connections (one per request here) is to run `PRAGMA optimize` as each one
closes. It analyses only a table that this connection used, that was never analysed or has grown
25-fold since, so almost always it does nothing; `analysis_limit` bounds the cost when it does.
"""

import sqlite3

from django.db.backends.sqlite3 import base

# Rows sampled per index when a table is analysed (SQLite's suggested value).
ANALYSIS_LIMIT = 400


class DatabaseWrapper(base.DatabaseWrapper):
    def _close(self) -> None:
        raw = self.connection
        if raw is not None and not raw.in_transaction:
            try:
                raw.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
                raw.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass  # Statistics are an optimisation: a busy or read-only file must not stop the close.
        super()._close()
