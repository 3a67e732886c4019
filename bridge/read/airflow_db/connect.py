"""A read-only connection to an Airflow metadata DB: PostgreSQL (psycopg2) or SQLite (standard library).

Every statement goes through `AirflowDb.query`, which counts them: a sync issues a fixed number of queries,
whatever the number of DAGs and tasks. Driver errors are translated where they enter, naming host and port
(never the password).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from bridge.errors import AirflowDbAuthError, AirflowDbError, AirflowDbUnreachableError

Dialect = Literal["postgresql", "sqlite"]
_AUTH_HINTS = ("password authentication failed", "no password supplied", "not permitted to log in", 'role "')


@dataclass
class AirflowDb:
    """An open, read-only connection and the count of statements sent through it."""

    connection: Any
    dialect: Dialect
    where: str  # host:port/db or the SQLite path, for messages
    queries: int = 0
    statements: list[str] = field(default_factory=list)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one statement written with `%s` placeholders; rows as tuples."""
        self.queries += 1
        self.statements.append(sql)
        text = sql.replace("%s", "?") if self.dialect == "sqlite" else sql
        cursor = self.connection.cursor()
        try:
            cursor.execute(text, tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def close(self) -> None:
        self.connection.close()


def describe(url: str) -> str:
    """`host:port/database` (or the SQLite path) of a URL, without credentials."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        return sqlite_path(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


def sqlite_path(url: str) -> str:
    return unquote(url.split("://", 1)[1].removeprefix("/")) if url.count("/") >= 3 else url.split("://", 1)[1]


def open_db(url: str) -> AirflowDb:
    scheme = urlsplit(url).scheme.lower()
    if scheme.startswith("sqlite"):
        return _open_sqlite(url)
    if scheme.startswith("postgres"):
        return _open_postgres(url)
    raise AirflowDbError(
        f"Airflow DB URL scheme {scheme or '(none)'!r} is not supported: use postgresql://user@host:port/db "
        "or sqlite:///path/to/airflow.db."
    )


def _open_sqlite(url: str) -> AirflowDb:
    path = Path(sqlite_path(url))
    if not path.is_file():
        raise AirflowDbUnreachableError(f"Airflow SQLite DB {path}: file not found. Check the path in the URL.")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.execute("PRAGMA query_only = 1")
    return AirflowDb(connection, "sqlite", str(path))


def _open_postgres(url: str) -> AirflowDb:
    import psycopg2
    import psycopg2.extras

    where = describe(url)
    try:
        connection = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"), connect_timeout=10)
    except psycopg2.OperationalError as exc:
        raise _connect_error(where, str(exc)) from None
    connection.set_session(readonly=True, autocommit=False)
    _fast_json(connection)
    return AirflowDb(connection, "postgresql", where)


def _fast_json(connection: Any) -> None:
    """Decode json/jsonb columns with orjson instead of the standard library."""
    import orjson
    import psycopg2.extras

    psycopg2.extras.register_default_json(connection, loads=orjson.loads)
    psycopg2.extras.register_default_jsonb(connection, loads=orjson.loads)


def _connect_error(where: str, message: str) -> AirflowDbError:
    first_line = message.strip().splitlines()[0] if message.strip() else "no answer"
    if any(hint in message for hint in _AUTH_HINTS):
        return AirflowDbAuthError(
            f"Airflow DB {where}: the server refused the credentials ({first_line}). "
            "Check the user and password of the Airflow DB URL."
        )
    if "does not exist" in message and "database" in message:
        return AirflowDbError(f"Airflow DB {where}: {first_line}. Check the database name in the URL.")
    return AirflowDbUnreachableError(
        f"Airflow DB {where}: cannot connect ({first_line}). Check that the server runs and the host and port."
    )
