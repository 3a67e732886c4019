"""A read-only connection to an Airflow metadata DB: PostgreSQL (psycopg2) or SQLite (standard library).

One small interface, `AirflowDb.query`, for both. Every read happens in one read-only transaction: on
PostgreSQL `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` (one consistent snapshot for all statements),
on SQLite a file opened with `mode=ro`, `PRAGMA query_only` and one `BEGIN`. `AirflowDb` counts the
statements sent through it. Driver errors are translated where they enter, naming host and port (or the
file), never the password.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import psycopg2

from bridge.config import AirflowDbConfig
from bridge.errors import (
    AirflowDbAuthError,
    AirflowDbError,
    AirflowDbUnreachableError,
    AirflowSchemaError,
    ConfigError,
)

Dialect = Literal["postgresql", "sqlite"]
CONNECT_TIMEOUT_S = 10
# libpq's words when the server refuses who is connecting (wrong password, unknown or NOLOGIN role, pg_hba).
_AUTH_REFUSALS = (
    "password authentication failed",
    "no password supplied",
    "is not permitted to log in",
    "no pg_hba.conf entry",
    "authentication failed",
)
_MISSING_RELATION = ("does not exist", "no such table", "file is not a database")


@dataclass
class AirflowDb:
    """An open, read-only connection and the count of statements sent through it."""

    connection: Any
    dialect: Dialect
    where: str  # host:port/database or the SQLite path, for messages
    queries: int = 0
    statements: list[str] = field(default_factory=list)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one statement written with `%s` placeholders; all its rows as tuples."""
        self.queries += 1
        self.statements.append(sql)
        text = sql.replace("%s", "?") if self.dialect == "sqlite" else sql
        cursor = self.connection.cursor()
        try:
            cursor.execute(text, tuple(params))
            return list(cursor.fetchall())
        except (psycopg2.Error, sqlite3.Error) as exc:
            raise query_error(self.where, exc) from exc
        finally:
            cursor.close()

    def close(self) -> None:
        self.connection.close()  # the read-only transaction ends with the connection


def query_error(where: str, exc: BaseException) -> AirflowDbError:
    """A driver error while reading: a missing table means the schema is not what alembic_version says."""
    message = first_line(exc)
    if any(words in message for words in _MISSING_RELATION):
        return AirflowSchemaError(
            f"Airflow DB {where}: {message}. This database does not have the tables of the Airflow schema "
            "the bridge expected; check the database name in the URL."
        )
    return AirflowDbError(f"Airflow DB {where}: reading failed ({message}). Check the server, then retry.")


def open_db(target: str | AirflowDbConfig) -> AirflowDb:
    """Open a URL (`postgresql://...`, `sqlite:///...`) or the `airflow_db` section of the configuration."""
    if isinstance(target, str):
        return open_url(target)
    if target.url is not None:
        return open_url(target.url.get_secret_value())
    if not target.host:
        raise ConfigError("no Airflow DB configured: set airflow_db.url, or airflow_db.host (metadata_db_host).")
    password = target.password.get_secret_value() if target.password else None
    params = {"host": target.host, "port": target.port, "dbname": target.database, "user": target.username}
    where = f"{target.host}:{target.port}/{target.database}"
    return open_postgres({**params, "password": password}, where, secrets=[password])


def open_url(url: str) -> AirflowDb:
    scheme = urlsplit(url).scheme.lower()
    if scheme.startswith("sqlite"):
        return open_sqlite(Path(sqlite_path(url)))
    if scheme.startswith("postgres"):
        password = urlsplit(url).password
        dsn = "postgresql://" + url.split("://", 1)[1]  # also SQLAlchemy's postgresql+psycopg2://
        return open_postgres({"dsn": dsn}, describe(url), secrets=[password, unquote(password or "")])
    raise ConfigError(
        f"Airflow DB URL scheme {scheme or '(none)'!r} is not supported: use postgresql://user@host:port/db "
        "or sqlite:////absolute/path/to/airflow.db."
    )


def describe(url: str) -> str:
    """`host:port/database` (or the SQLite path) of a URL, without credentials."""
    parts = urlsplit(url)
    if parts.scheme.lower().startswith("sqlite"):
        return sqlite_path(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


def sqlite_path(url: str) -> str:
    """The file of a SQLAlchemy-style SQLite URL: `sqlite:///relative.db`, `sqlite:////absolute.db`."""
    rest = url.split("://", 1)[1].split("?", 1)[0]
    return unquote(rest[1:] if rest.startswith("/") else rest)


def open_sqlite(path: Path) -> AirflowDb:
    if not path.is_file():
        raise AirflowDbUnreachableError(f"Airflow SQLite DB {path}: file not found. Check the path in the URL.")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        connection.execute("PRAGMA query_only = 1")
        connection.execute("BEGIN")
    except sqlite3.Error as exc:
        connection.close()
        raise query_error(str(path), exc) from None
    return AirflowDb(connection, "sqlite", str(path))


def open_postgres(params: dict[str, Any], where: str, secrets: Sequence[str | None]) -> AirflowDb:
    try:
        connection = psycopg2.connect(**params, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg2.Error as exc:
        raise connect_error(where, without_secrets(first_line(exc), secrets)) from None
    connection.set_session(isolation_level="REPEATABLE READ", readonly=True, autocommit=False)
    _fast_json(connection)
    return AirflowDb(connection, "postgresql", where)


def _fast_json(connection: Any) -> None:
    """Decode json/jsonb columns (the serialized DAGs) with orjson instead of the standard library."""
    import orjson
    import psycopg2.extras

    psycopg2.extras.register_default_json(connection, loads=orjson.loads)
    psycopg2.extras.register_default_jsonb(connection, loads=orjson.loads)


def connect_error(where: str, message: str) -> AirflowDbError | ConfigError:
    """The error for a refused connection: credentials, database name, settings or an unreachable server."""
    if any(words in message for words in _AUTH_REFUSALS) or ('role "' in message and "does not exist" in message):
        return AirflowDbAuthError(
            f"Airflow DB {where}: the server refused the credentials ({message}). "
            "Check the user and password of the Airflow DB connection."
        )
    if 'database "' in message and "does not exist" in message:
        return AirflowDbError(f"Airflow DB {where}: {message}. Check the database name in the URL.")
    if "invalid" in message and ("dsn" in message or "URI" in message or "connection option" in message):
        return ConfigError(f"Airflow DB {where}: the connection settings are not valid ({message}).")
    return AirflowDbUnreachableError(
        f"Airflow DB {where}: cannot connect ({message}). Check that the server runs and the host and port."
    )


def without_secrets(message: str, secrets: Sequence[str | None]) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__
