"""A read-only connection to an Airflow metadata DB: PostgreSQL (psycopg2) or SQLite (standard library).

One small interface for both: `AirflowDb.query` (all rows of a small statement) and `AirflowDb.stream` (the
rows of a large one, a batch at a time). Every read happens in one read-only transaction: on PostgreSQL
`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` (one consistent snapshot for all statements), on SQLite a
file opened with `mode=ro`, `PRAGMA query_only` and one `BEGIN`. `AirflowDb` counts the statements sent
through it. JSON columns come back as text on both (the reader decodes one value at a time). Driver errors
are translated where they enter, naming host and port (or the file), never the password.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
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
# Rows a stream holds at once, unless the caller says otherwise (rows of runs and task instances are small).
STREAM_BATCH = 1000
_DRIVER_ERRORS = (psycopg2.Error, sqlite3.Error)
_JSON_OIDS = (114, 3802)  # PostgreSQL's json and jsonb types


@dataclass
class AirflowDb:
    """An open, read-only connection and the count of statements sent through it.

    `queries` and `statements` count the statements of ours: each SELECT once, however its rows come back.
    `fetches` counts the batches `stream` fetched, which on PostgreSQL are extra round trips of the same
    statement (`FETCH FORWARD n` from its server-side cursor); they grow with the rows, the statements do not.
    """

    connection: Any
    dialect: Dialect
    where: str  # host:port/database or the SQLite path, for messages
    queries: int = 0
    statements: list[str] = field(default_factory=list)
    fetches: int = 0

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one statement written with `%s` placeholders; all its rows as tuples."""
        self._count(sql)
        cursor = self.connection.cursor()
        try:
            cursor.execute(self._text(sql), tuple(params))
            return list(cursor.fetchall())
        except _DRIVER_ERRORS as exc:
            raise query_error(self.where, exc) from exc
        finally:
            cursor.close()

    def stream(self, sql: str, params: Sequence[object] = (), batch: int = STREAM_BATCH) -> Iterator[tuple[Any, ...]]:
        """Run one statement and yield its rows, holding at most `batch` of them (for the large results).

        Counted as one statement when called, like `query`; it is sent when the first row is asked for.
        On PostgreSQL the rows come from a server-side (named) cursor, `DECLARE ... CURSOR` inside the read's
        REPEATABLE READ READ ONLY transaction, so they belong to the same snapshot as every other statement;
        each batch is one `FETCH FORWARD batch`, counted in `fetches`, not in `queries`: it is a round trip
        of the same statement, not a statement of ours. On SQLite the cursor steps through the rows as they
        are fetched. A driver error, whether at the start or in a later batch, is translated as in `query`.
        Other statements may run while a stream is open; reading it to the end (or closing it) closes its cursor.
        """
        self._count(sql)
        return self._rows(sql, params, batch)

    def _rows(self, sql: str, params: Sequence[object], batch: int) -> Iterator[tuple[Any, ...]]:
        named = self.dialect == "postgresql"
        cursor = self.connection.cursor(f"bridge_stream_{self.queries}") if named else self.connection.cursor()
        try:
            cursor.execute(self._text(sql), tuple(params))
            while found := cursor.fetchmany(batch):
                self.fetches += 1
                yield from found
        except _DRIVER_ERRORS as exc:
            raise query_error(self.where, exc) from exc
        finally:
            cursor.close()

    def _count(self, sql: str) -> None:
        self.queries += 1
        self.statements.append(sql)

    def _text(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.dialect == "sqlite" else sql

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
    _json_as_text(connection)
    return AirflowDb(connection, "postgresql", where)


def _json_as_text(connection: Any) -> None:
    """Leave json/jsonb columns as text, as SQLite gives them, instead of psycopg2 decoding every value.

    The reader decodes with orjson one value at a time (`serialized_dag.load_row`, `rows.as_dict`), so a
    batch of streamed rows holds compact JSON text, not every document of the batch decoded at once.
    """
    import psycopg2.extensions

    as_text = psycopg2.extensions.new_type(_JSON_OIDS, "BRIDGE_JSON_AS_TEXT", lambda value, _cursor: value)
    psycopg2.extensions.register_type(as_text, connection)


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
