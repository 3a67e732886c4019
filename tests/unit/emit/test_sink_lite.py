"""The DataHub Lite sink when its database fails: another connection holding the file (at open, or part way
through a sync), a damaged file, a write SQLite refuses. Each is one sink error naming the file, transient
only when another process holds it; what was written before is in `acknowledged`; DataHub's lite logger,
which would print the whole MCP and a traceback, says nothing."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from datahub.emitter.mce_builder import make_dataset_urn
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import StatusClass

from bridge.emit.sinks.lite import LiteSink
from bridge.errors import SinkTerminalError, SinkTransientError


def proposals(count: int) -> Iterator[MetadataChangeProposalWrapper]:
    for number in range(count):
        urn = make_dataset_urn("postgres", f"analytics.public.table_{number:04d}")
        yield MetadataChangeProposalWrapper(entityUrn=urn, aspect=StatusClass(removed=False))


def aspects_in(path: Path) -> int:
    with closing(sqlite3.connect(path)) as connection:
        return int(connection.execute("SELECT count(*) FROM metadata_aspect_v2 WHERE version = 0").fetchone()[0])


def created(path: Path) -> Path:
    """A DataHub Lite file with its tables and nothing in them."""
    LiteSink(path, timeout=1).close()
    return path


@contextmanager
def held(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection to `path` that takes the database's exclusive lock when told (`BEGIN EXCLUSIVE`)."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        yield connection
    finally:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        connection.close()


def datahub_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage()[:80] for record in caplog.records if record.name.startswith("datahub")]


def test_a_file_another_connection_locks_part_way_is_transient_and_counts_what_was_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = created(tmp_path / "lite.db")
    sink = LiteSink(path, timeout=0.2)
    with held(path) as other:

        def locked_after_25() -> Iterator[MetadataChangeProposalWrapper]:
            for number, proposal in enumerate(proposals(40)):
                if number == 25:
                    other.execute("BEGIN EXCLUSIVE")
                yield proposal

        with pytest.raises(SinkTransientError) as raised:
            sink.emit(locked_after_25())
        started = time.monotonic()
        sink.close()  # while the other connection still holds the file: no reindex, no second wait
        assert time.monotonic() - started < 0.2
    assert str(raised.value) == (
        f"datahub-lite {path}: another process holds the database (OperationalError: database is locked); "
        "waited 0.2 s; 25 aspects were written before it. Run this sync again when that process is done with "
        "the file (a `datahub lite` command, a viewer), or raise sink.timeout to wait longer."
    )
    assert sink.acknowledged.counts == {"status": 25}
    assert aspects_in(path) == 25
    assert datahub_errors(caplog) == []
    LiteSink(path, timeout=0.2).close()  # the lock beside the file was released


def test_a_file_another_connection_holds_at_open_is_transient_not_damaged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = created(tmp_path / "lite.db")
    with held(path) as other:
        other.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        with pytest.raises(SinkTransientError) as raised:
            LiteSink(path, timeout=0.5)
        waited = time.monotonic() - started
    assert waited >= 0.4  # SQLite's busy timeout is the sink's timeout
    message = str(raised.value)
    assert message.startswith(f"datahub-lite {path}: another process holds the database (OperationalError: ")
    assert "waited 0.5 s" in message and "damaged" not in message
    assert datahub_errors(caplog) == []
    LiteSink(path, timeout=0.2).close()  # the lock beside the file was released


def test_a_damaged_file_is_terminal_and_says_to_move_it_away(tmp_path: Path) -> None:
    path = tmp_path / "lite.db"
    path.write_bytes(b"<html>502 Bad Gateway</html>\n" * 200)
    with pytest.raises(SinkTerminalError) as raised:
        LiteSink(path, timeout=0.2)
    assert str(raised.value) == (
        f"datahub-lite {path}: the file is damaged or not a DataHub Lite database "
        "(DatabaseError: file is not a database). Move it away and sync again."
    )
    path.unlink()
    LiteSink(path, timeout=0.2).close()  # the lock beside the file was released


def test_a_write_sqlite_refuses_is_terminal_naming_the_file_and_the_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = created(tmp_path / "lite.db")
    with closing(sqlite3.connect(path)) as connection:
        connection.execute(
            "CREATE TRIGGER quota BEFORE INSERT ON metadata_aspect_v2 "
            "WHEN (SELECT count(*) FROM metadata_aspect_v2 WHERE version = 0) >= 10 "
            "BEGIN SELECT RAISE(ABORT, 'quota of 10 aspects reached'); END"
        )
        connection.commit()
    sink = LiteSink(path, timeout=0.2)
    with pytest.raises(SinkTerminalError) as raised:
        sink.emit(proposals(20))
    sink.close()
    assert str(raised.value) == (
        f"datahub-lite {path}: writing failed (IntegrityError: quota of 10 aspects reached); 10 aspects were "
        "written before it. Not retried: check that the file and its folder can be written and the disk has "
        "room, then sync again."
    )
    assert sink.acknowledged.counts == {"status": 10}
    assert aspects_in(path) == 10
    assert datahub_errors(caplog) == []


def test_datahub_lites_logger_is_quiet_only_while_the_sink_is_open(tmp_path: Path) -> None:
    logger = logging.getLogger("datahub.lite.sql_backed_lite")
    before = list(logger.filters)
    sink = LiteSink(tmp_path / "lite.db", timeout=0.2)
    assert len(logger.filters) == len(before) + 1
    sink.close()
    assert logger.filters == before
