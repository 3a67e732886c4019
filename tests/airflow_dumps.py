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
