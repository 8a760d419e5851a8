"""The local store: what lambdaops has already paid AWS for and that cannot change any more.

Today it keeps the Logs Insights figures of closed time bins, and of the beginnings of open bins
already scanned (``lambdaops.collect.log_bins``), so a moving window (cron's ``report --since 6h``,
the TUI's refresh) queries only the minutes that are new.

Why SQLite (the standard library's ``sqlite3``) and not Parquet files through pandas: a cron report
and the TUI may write at the same moment, and SQLite serialises writers with its own file locks
(a busy timeout waits for the other) while readers keep reading (WAL mode); a run's bins land in one
transaction, so a reader sees all of them or none, and a crash mid-write leaves the previous state;
and it adds no dependency. Parquet would need our own locking and a rewrite of whole files to add a
bin. One file per endpoint, profile and account (``store-<hash>.sqlite3`` in the cache directory).
"""

from lambdaops.store.cells import Cell
from lambdaops.store.db import Store, clear, open_store, store_files

__all__ = ["Cell", "Store", "clear", "open_store", "store_files"]
