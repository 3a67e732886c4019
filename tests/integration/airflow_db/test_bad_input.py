"""Bad databases give one clear error naming where; a bad serialized DAG is reported and skipped."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import psycopg2
import pytest

from bridge.errors import AirflowDbAuthError, AirflowDbError, AirflowDbUnreachableError, AirflowSchemaError
from bridge.read.airflow_db.reader import read_airflow_db
from tests.airflow_dumps import HOST, PORT, admin, dsn, restore_dump, sqlite_dump


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def execute(url: str, sql: str) -> None:
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def test_unreachable_server_names_host_and_port() -> None:
    port = free_port()
    with pytest.raises(AirflowDbUnreachableError) as raised:
        read_airflow_db(f"postgresql://airflow:s3cret-pw@127.0.0.1:{port}/airflow")
    assert f"127.0.0.1:{port}/airflow" in str(raised.value) and "s3cret-pw" not in str(raised.value)


def test_refused_login_is_an_authentication_error() -> None:
    # The local server trusts 127.0.0.1, so a password is never checked; a role that may not log in is a real
    # refusal by the server, reported the same way as a wrong password.
    admin("DROP ROLE IF EXISTS bridge_nologin")
    admin("CREATE ROLE bridge_nologin NOLOGIN PASSWORD 'pw-never-shown'")
    with pytest.raises(AirflowDbAuthError) as raised:
        read_airflow_db(f"postgresql://bridge_nologin:pw-never-shown@{HOST}:{PORT}/postgres")
    assert "refused the credentials" in str(raised.value) and "pw-never-shown" not in str(raised.value)


def test_a_database_that_is_not_airflow() -> None:
    with pytest.raises(AirflowSchemaError, match=r"no alembic_version table.*not an Airflow metadata database"):
        read_airflow_db(dsn("postgres"))


@pytest.mark.parametrize(
    ("revision", "message"),
    [("290244fb8b83", "is Airflow 2.5.0, too old"), ("ffffffffffff", "not one the bridge knows")],
)
def test_schema_too_old_or_unknown_is_named(worker_id: str, revision: str, message: str) -> None:
    url = restore_dump("af211", worker_id, suffix=f"_rev_{revision[:4]}")
    execute(url, f"UPDATE alembic_version SET version_num = '{revision}'")
    with pytest.raises(AirflowSchemaError) as raised:
        read_airflow_db(url)
    assert revision in str(raised.value) and message in str(raised.value)
    admin(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_undecompressable_row_is_reported_and_the_others_read(worker_id: str) -> None:
    url = restore_dump("af33", worker_id, suffix="_corrupt")
    execute(
        url, "UPDATE serialized_dag SET data = NULL, data_compressed = 'not zlib'::bytea WHERE dag_id = 'ingest_fred'"
    )
    snapshot = read_airflow_db(url)
    assert "ingest_fred" not in snapshot.dags and len(snapshot.dags) == 5
    [problem] = snapshot.problems
    assert (problem.code, problem.location) == ("bad-serialized-dag", "dag ingest_fred")
    assert "cannot be decompressed" in problem.message
    admin(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_invalid_json_row_is_reported_and_the_others_read(tmp_path: Path) -> None:
    path = sqlite_dump(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE serialized_dag SET data = '{\"dag\": {\"tasks\": [' WHERE dag_id = 'finance_dbt'")
    snapshot = read_airflow_db(f"sqlite:///{path}")
    assert "finance_dbt" not in snapshot.dags and "finance_reporting" in snapshot.dags
    assert [p.location for p in snapshot.problems] == ["dag finance_dbt"]
    assert "JSON is not valid" in snapshot.problems[0].message


def test_missing_sqlite_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(AirflowDbError, match=r"nowhere\.db: file not found") as raised:
        read_airflow_db(f"sqlite:///{tmp_path}/nowhere.db")
    assert raised.value.exit_code == 2  # bad input, not a failing service
