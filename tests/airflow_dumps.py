"""Restoring the committed Airflow dumps (tests/fixtures/airflow/dumps) into fresh databases for tests.

The server is the local PostgreSQL (BRIDGE_PG_HOST / BRIDGE_PG_PORT, default 127.0.0.1:5432, user postgres),
which `make test` starts when it is down. Each xdist worker restores into its own database.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

import psycopg2

DUMPS = Path(__file__).resolve().parent / "fixtures" / "airflow" / "dumps"
POSTGRES_DUMPS = ("af211", "af313", "af33")
# One Cosmos-scenario dump per supported release line (2.10, 2.11, 3.0, 3.1, 3.2, 3.3), read by
# tests/integration/airflow_db/test_releases.py alone (the heavy tests keep to POSTGRES_DUMPS).
RELEASE_DUMPS = ("af210", "af211", "af30", "af313", "af32", "af33")
# Made from dags_extras/ (no Cosmos): SLAs, a deadline, a run conf, connections named by tasks, import errors.
EXTRAS_DUMPS = ("af211x", "af33x")
# Made from dags_shapes/ (generate.py --release af33s --release af211s): every shape a Cosmos task takes (test and
# source behaviours, nested and folder groups, custom ids, detached tests, execution modes, hand-written
# operators), each beside `<name>.expected.json` (what each Cosmos task runs, listed by real `dbt ls`).
SHAPES_DUMPS = ("af211s", "af33s")
HOST = os.environ.get("BRIDGE_PG_HOST", "127.0.0.1")
PORT = int(os.environ.get("BRIDGE_PG_PORT", "5432"))


def dsn(database: str) -> str:
    return f"postgresql://postgres@{HOST}:{PORT}/{database}"


def admin(sql: str) -> None:
    connection = psycopg2.connect(dsn("postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def restore_dump(name: str, worker_id: str, suffix: str = "") -> str:
    """A fresh database holding dump `name`; its DSN."""
    database = f"bridge_test_{name}_{worker_id}{suffix}".lower()
    admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{database}"')
    sql = gzip.decompress((DUMPS / f"{name}.sql.gz").read_bytes())
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", HOST, "-p", str(PORT), "-U", "postgres", "-d", database],
        input=sql, check=True, capture_output=True,
    )  # fmt: skip
    return dsn(database)


def sqlite_dump(directory: Path) -> Path:
    """The SQLite dump unpacked into `directory`."""
    target = directory / "airflow.db"
    with gzip.open(DUMPS / "af33_sqlite.db.gz", "rb") as source, target.open("wb") as out:
        shutil.copyfileobj(source, out)
    return target


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
    """Copy every real DAG (its dag, dag_version and serialized_dag rows) `copies` times, in SQL."""
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
