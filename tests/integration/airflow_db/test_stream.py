"""`AirflowDb.stream`: one statement however many batches, the read's snapshot, errors translated mid-stream."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import AirflowDbError
from bridge.read.airflow_db.connect import open_db
from tests.airflow_dumps import HOST, PORT, admin, dsn, sqlite_dump

SERIES = "SELECT x, x * 2 FROM generate_series(1, %s) x ORDER BY x"


def test_a_stream_is_one_statement_fetched_in_batches() -> None:
    db = open_db(dsn("postgres"))
    try:
        streamed = list(db.stream(SERIES, [25], batch=10))
        assert (db.queries, db.statements, db.fetches) == (1, [SERIES], 3)  # 10 + 10 + 5 rows
        assert streamed == db.query(SERIES, [25]) == [(x, x * 2) for x in range(1, 26)]
        assert db.queries == 2
    finally:
        db.close()


def test_json_comes_back_as_text() -> None:
    db = open_db(dsn("postgres"))
    try:
        statement = """SELECT '{"dag": {"tasks": []}}'::jsonb, '[1]'::json"""
        assert db.query(statement) == list(db.stream(statement)) == [('{"dag": {"tasks": []}}', "[1]")]
    finally:
        db.close()


def test_an_error_in_a_later_batch_is_translated_naming_the_server() -> None:
    db = open_db(dsn("postgres"))
    rows = db.stream("SELECT 1 / (x - 15) FROM generate_series(1, 30) x", batch=10)
    try:
        assert len([next(rows) for _ in range(10)]) == 10  # the first batch arrives
        with pytest.raises(AirflowDbError, match=rf"{HOST}:{PORT}/postgres: reading failed \(division by zero\)"):
            list(rows)
    finally:
        db.close()


def test_streamed_rows_belong_to_the_reads_snapshot(worker_id: str) -> None:
    table = f"bridge_stream_snapshot_{worker_id}"
    admin(f"DROP TABLE IF EXISTS {table}")
    admin(f"CREATE TABLE {table} (x int)")
    db = open_db(dsn("postgres"))
    try:
        assert db.query(f"SELECT count(*) FROM {table}") == [(0,)]  # the snapshot is taken here
        admin(f"INSERT INTO {table} SELECT generate_series(1, 100)")
        assert list(db.stream(f"SELECT x FROM {table}", batch=7)) == []
    finally:
        db.close()
        admin(f"DROP TABLE {table}")


def test_sqlite_streams_the_same_rows_as_it_queries(tmp_path: Path) -> None:
    db = open_db(f"sqlite:///{sqlite_dump(tmp_path)}")
    try:
        statement = "SELECT dag_id, data FROM serialized_dag ORDER BY dag_id, id"
        streamed = list(db.stream(statement, batch=2))
        assert streamed == db.query(statement) and len(streamed) > 2
        assert db.queries == 2 and db.fetches == (len(streamed) + 1) // 2
        assert all(isinstance(data, str) for _, data in streamed)
    finally:
        db.close()
