"""A read issues the same number of statements for 6 DAGs as for 500: no per-DAG or per-task queries."""

from __future__ import annotations

import psycopg2
import pytest

from bridge.read.airflow_db.connect import open_db
from bridge.read.airflow_db.reader import read_snapshot
from tests.airflow_dumps import admin, restore_dump

COPIES = 500
COPY_VERSIONS = """
    INSERT INTO dag_version (id, version_number, dag_id, bundle_name, bundle_version, created_at, last_updated)
    SELECT gen_random_uuid(), v.version_number, v.dag_id || '_copy_' || n, v.bundle_name, v.bundle_version,
           v.created_at, v.last_updated
    FROM dag_version v, generate_series(1, %s) n"""
COPY_SERIALIZED = """
    INSERT INTO serialized_dag (id, dag_id, data, data_compressed, created_at, last_updated, dag_hash, dag_version_id)
    SELECT gen_random_uuid(), s.dag_id || '_copy_' || n, s.data, s.data_compressed, s.created_at, s.last_updated,
           s.dag_hash, cv.id
    FROM serialized_dag s JOIN dag_version v ON v.id = s.dag_version_id
    CROSS JOIN generate_series(1, %s) n
    JOIN dag_version cv ON cv.dag_id = v.dag_id || '_copy_' || n AND cv.version_number = v.version_number"""


def multiply_dags(dsn: str, copies: int) -> None:
    """Copy every real DAG (dag, dag_version, serialized_dag, task_instance rows) `copies` times, in SQL."""
    connection = psycopg2.connect(dsn)
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'dag' ORDER BY ordinal_position"
        )
        dag_columns = [r[0] for r in cursor.fetchall()]
        others = ", ".join(c for c in dag_columns if c != "dag_id")
        cursor.execute(
            f"INSERT INTO dag (dag_id, {others}) SELECT d.dag_id || '_copy_' || n, {others} "
            f"FROM dag d, generate_series(1, %s) n",
            [copies],
        )
        cursor.execute(COPY_VERSIONS, [copies])
        cursor.execute(COPY_SERIALIZED, [copies])
    connection.close()


@pytest.fixture(scope="module")
def copied(worker_id: str) -> str:
    return restore_dump("af33", worker_id, suffix="_x500")


def test_query_count_does_not_grow_with_dags(restored: dict[str, str], copied: str) -> None:
    small = open_db(restored["af33"])
    small_snapshot = read_snapshot(small)
    multiply_dags(copied, COPIES)
    large = open_db(copied)
    large_snapshot = read_snapshot(large)
    small.close(), large.close()
    assert len(large_snapshot.dags) == len(small_snapshot.dags) * (COPIES + 1)
    assert sum(len(d.tasks) for d in large_snapshot.dags.values()) > 30_000
    assert large.queries == small.queries == 15
    assert large.statements == small.statements
    admin(f'DROP DATABASE IF EXISTS "{copied.rsplit("/", 1)[1]}" WITH (FORCE)')
