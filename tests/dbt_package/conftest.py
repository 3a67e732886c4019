"""The dbt package tests build into the database of the bundled project's local profile, `bridge_dbt`."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import psycopg2
import pytest

from tests.airflow_dumps import dsn
from tests.dbt_package.dbt_runs import drop_schemas

DATABASE = "bridge_dbt"


@pytest.fixture(scope="session", autouse=True)
def bridge_dbt_database() -> None:
    """Create `bridge_dbt` on a fresh server (two workers may race: the loser finds it there)."""
    connection = psycopg2.connect(dsn("postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if cursor.fetchone() is None:
                with contextlib.suppress(psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                    cursor.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        connection.close()


@pytest.fixture
def throwaway_schema() -> Iterator[str]:
    """A target schema of its own in bridge_dbt; the schemas dbt builds under it are dropped afterwards."""
    schema = f"bridge_pytest_{uuid.uuid4().hex[:8]}"
    yield schema
    drop_schemas(schema)
