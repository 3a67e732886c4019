"""DataHub Lite, the embedded default: a local database file `datahub lite` browses, one sync at a time.

The database's errors (SQLite's, DuckDB's) become sink errors naming the file, where they enter: another
process holding the database (SQLite's "database is locked", DuckDB's "Could not set lock") is transient, and
SQLite waits for it up to the sink's `timeout` first (its busy timeout); a damaged file, or anything else the
database refuses, is terminal. After a failed write, `acknowledged` holds what was written before it, and the
sink closes the file without DataHub's reindex (it would wait for the lock again; the next sync reindexes).
DataHub Lite logs each failed write (the whole MCP and a traceback) before it raises; while a sink is open,
those records are dropped, and the sink's one-line error says what failed."""

from __future__ import annotations

import importlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datahub.emitter.mcp import MetadataChangeProposalWrapper

from bridge.emit.sinks.base import EmitResult
from bridge.errors import SinkError, SinkTerminalError, SinkTransientError
from bridge.outputs import LockFile

if TYPE_CHECKING:
    from datahub.lite.sql_backed_lite import SqlBackedLite

# The file `datahub lite` reads by default (DataHub 1.7: SQLite), so `datahub lite ls` shows what we wrote.
DEFAULT_LITE_PATH = Path.home() / ".datahub" / "lite" / "datahub.db"
# Where DataHub Lite logs a failed write (acryl-datahub 1.7), just before it raises the engine's error.
LITE_LOG = logging.getLogger("datahub.lite.sql_backed_lite")
# What the engines say when another process holds the file (SQLite's SQLITE_BUSY and SQLITE_LOCKED, DuckDB's
# lock at open), and when the file is not a database they can read.
HELD = ("database is locked", "database table is locked", "could not set lock")
DAMAGED = ("file is not a database", "database disk image is malformed", "not a valid duckdb database")


class LiteSink:
    """DataHub Lite: a local database file that `datahub lite` can browse (SQLite, or DuckDB for *.duckdb).

    One sync writes to a file at a time: the sink holds an exclusive lock on `<file>.lock` from open to close,
    and a second sync waits for it up to `timeout` seconds, then stops with a message saying why. Another
    process holding the database itself is waited for as long (SQLite), then is a `SinkTransientError`."""

    def __init__(self, path: Path, timeout: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.path = path
        self.what = f"datahub-lite {path}"
        self.acknowledged = EmitResult()
        self.engine = "duckdb" if path.suffix == ".duckdb" else "sqlite"
        self.waited = f"; waited {timeout:g} s" if self.engine == "sqlite" else ""  # DuckDB does not wait
        self.complete = True  # False while `emit` runs, and after it raised
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = LockFile(path.with_name(path.name + ".lock"))
        self.lock.acquire(timeout, sleep, self.what, "sink.timeout")
        self.quiet = DroppedErrorRecords()
        LITE_LOG.addFilter(self.quiet)
        try:
            self.lite = open_lite(path, self.engine, timeout)
            self.errors = database_errors(self.engine)
        except Exception as exc:  # the engines raise their own errors for a locked or damaged file
            self._release()
            raise database_error(self.what, exc, self.waited, None) from exc

    def emit(self, proposals: Iterable[MetadataChangeProposalWrapper]) -> EmitResult:
        result = self.acknowledged = EmitResult()
        self.complete = False
        for proposal in proposals:
            try:
                self.lite.write(proposal)
            except self.errors as exc:
                raise database_error(self.what, exc, self.waited, sum(result.counts.values())) from exc
            result.add(proposal)
        self.complete = True
        return result

    def close(self) -> None:
        """Close the file. After a complete `emit`, DataHub rebuilds its browse index here; after a failed or
        interrupted one, the connection is only closed (an open transaction rolled back): reindexing would wait
        for the other process's lock again, and the next sync reindexes."""
        try:
            if self.complete:
                self.lite.close()
            else:
                self.lite._close_connection()  # DataHub's close() without its reindex()
        except self.errors as exc:
            raise database_error(self.what, exc, self.waited, sum(self.acknowledged.counts.values())) from exc
        finally:
            self._release()

    def _release(self) -> None:
        LITE_LOG.removeFilter(self.quiet)
        self.lock.release()


def open_lite(path: Path, engine: str, timeout: float) -> SqlBackedLite[Any]:
    """DataHub Lite's `engine` on `path`; SQLite waits up to `timeout` seconds for another process's lock."""
    from datahub.lite.lite_util import get_datahub_lite
    from datahub.lite.sql_backed_lite import SqlBackedLite

    options = {"busy_timeout": round(timeout * 1000)} if engine == "sqlite" else {}
    lite = get_datahub_lite({"type": engine, "config": {"file": str(path), "options": options}})
    assert isinstance(lite, SqlBackedLite)  # no `forward_to`: not DataHub's forwarding wrapper
    return lite


def database_errors(engine: str) -> tuple[type[Exception], ...]:
    """What the engine raises (DuckDB is imported by DataHub's DuckDB engine, so already loaded here)."""
    if engine == "sqlite":
        return (sqlite3.Error,)
    duckdb_error: type[Exception] = importlib.import_module("duckdb").Error
    return (duckdb_error,)


def database_error(what: str, exc: Exception, waited: str, written: int | None) -> SinkError:
    """The engine's `exc` as the sink's error, naming the file: transient when another process holds it.
    `written`: the aspects written before a write failed; None when opening failed."""
    reason = f"{type(exc).__name__}: {str(exc)[:200]}"
    before = "" if written is None else f"; {written} aspects were written before it"
    said = str(exc).lower()
    if any(text in said for text in HELD):
        longer = ", or raise sink.timeout to wait longer" if waited else ""
        return SinkTransientError(
            f"{what}: another process holds the database ({reason}){waited}{before}. Run this sync again when "
            f"that process is done with the file (a `datahub lite` command, a viewer){longer}."
        )
    if any(text in said for text in DAMAGED):
        return SinkTerminalError(
            f"{what}: the file is damaged or not a DataHub Lite database ({reason}){before}. "
            "Move it away and sync again."
        )
    failed = "cannot open it" if written is None else "writing failed"
    return SinkTerminalError(
        f"{what}: {failed} ({reason}){before}. Not retried: check that the file and its folder can be written "
        "and the disk has room, then sync again."
    )


class DroppedErrorRecords(logging.Filter):
    """Drops DataHub Lite's error records: each is followed by the error it logs, which the sink raises as its
    own one line (a failed write's record holds the whole MCP, and a traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR
