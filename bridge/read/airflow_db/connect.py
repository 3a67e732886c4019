"""A read-only connection to an Airflow metadata DB: PostgreSQL (psycopg2) or SQLite (standard library).

One small interface for both: `AirflowDb.query` (all rows of a small statement) and `AirflowDb.stream` (the
rows of a large one, a batch at a time). Every read happens in one read-only transaction: on PostgreSQL
`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` (one consistent snapshot for all statements) with a
statement and a lock timeout (`airflow_db.statement_timeout`, `lock_timeout`), on SQLite a file opened with
`mode=ro` (or `immutable=1`, see `open_sqlite`), `PRAGMA query_only` and one `BEGIN`. `AirflowDb` counts the
statements sent through it. JSON columns come back as text on both (the reader decodes one value at a time).
Driver errors are translated where they enter, naming host and port (or the file) and, for a timeout, the
table the statement read; never the password. PostgreSQL is given the parts of a URL (`bridge.db_url`).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.config import AirflowDbConfig
from bridge.db_url import DbTarget, Dialect, parse_db_url
from bridge.errors import (
    AirflowDbAuthError,
    AirflowDbError,
    AirflowDbQueryError,
    AirflowDbTimeoutError,
    AirflowDbUnreachableError,
    AirflowSchemaError,
    ConfigError,
)
from bridge.redact import Redactor

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
_JSON_OIDS = (114, 3802)  # PostgreSQL's json and jsonb types
_QUERY_CANCELED, _LOCK_NOT_AVAILABLE = "57014", "55P03"  # SQLSTATEs of statement_timeout and lock_timeout
_FROM_TABLE = re.compile(r"(?i)\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)")


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
    # The driver's error class (psycopg2 is imported only when a PostgreSQL DB is opened).
    driver_error: type[Exception] = sqlite3.Error
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
        except self.driver_error as exc:
            raise query_error(self.where, exc, sql) from None
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
        except self.driver_error as exc:
            raise query_error(self.where, exc, sql) from None
        finally:
            cursor.close()

    def _count(self, sql: str) -> None:
        self.queries += 1
        self.statements.append(sql)

    def _text(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.dialect == "sqlite" else sql

    def close(self) -> None:
        self.connection.close()  # the read-only transaction ends with the connection


def query_error(where: str, exc: BaseException, sql: str = "") -> AirflowDbError:
    """A driver error while reading: a timeout names the statement that waited; a missing table means the
    schema is not what alembic_version says; a damaged SQLite file is told apart from both."""
    message = first_line(exc)
    code = getattr(exc, "pgcode", None)
    if code in (_LOCK_NOT_AVAILABLE, _QUERY_CANCELED):
        return timeout_error(where, code, statement_label(sql))
    if "malformed" in message or "file is not a database" in message or "not a database" in message:
        return AirflowDbError(f"Airflow DB {where}: the file is damaged ({message}). Copy it again from Airflow.")
    if any(words in message for words in _MISSING_RELATION):
        return AirflowSchemaError(
            f"Airflow DB {where}: {message}. This database does not have the tables of the Airflow schema "
            "the bridge expected; check the database name in the URL."
        )
    return AirflowDbQueryError(f"Airflow DB {where}: reading failed ({message}). Check the server, then retry.")


def timeout_error(where: str, code: str, statement: str) -> AirflowDbTimeoutError:
    if code == _LOCK_NOT_AVAILABLE:
        return AirflowDbTimeoutError(
            f"Airflow DB {where}: the statement {statement} waited too long for a lock (airflow_db.lock_timeout); "
            "a migration or maintenance job holds the table. Retry when it has finished, or raise "
            "airflow_db.lock_timeout."
        )
    return AirflowDbTimeoutError(
        f"Airflow DB {where}: the statement {statement} ran past airflow_db.statement_timeout and was "
        "cancelled. Retry when the database is less busy, or raise airflow_db.statement_timeout."
    )


def statement_label(sql: str) -> str:
    """`reading dag_run` for a statement, by the first table it reads (for messages)."""
    found = _FROM_TABLE.search(sql)
    return f"reading {found.group(1)}" if found else "of the read"


def open_db(target: str | DbTarget | AirflowDbConfig) -> AirflowDb:
    """Open a URL (`postgresql://...`, `sqlite:///...`), a parsed target, or the `airflow_db` section."""
    timeouts = DEFAULT_TIMEOUTS
    if isinstance(target, AirflowDbConfig):
        timeouts = Timeouts(target.statement_timeout, target.lock_timeout)
        found = target.target()
        if found is None:
            raise ConfigError("no Airflow DB configured: set airflow_db.url, or airflow_db.host (metadata_db_host).")
        target = found
    elif isinstance(target, str):
        target = parse_db_url(target)
    if target.dialect == "sqlite":
        assert target.path is not None
        return open_sqlite(Path(target.path))
    return open_postgres(target, timeouts)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds a statement may run, and may wait for a lock, on PostgreSQL."""

    statement: float
    lock: float

    def set_in(self, connection: Any) -> None:
        """`SET LOCAL` both at the start of the read's transaction (not as startup options: a PgBouncer in
        front of Airflow's DB refuses those). Setup, not a read: not counted among the statements."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SET LOCAL statement_timeout = %s; SET LOCAL lock_timeout = %s",
                (int(self.statement * 1000), int(self.lock * 1000)),
            )


DEFAULT_TIMEOUTS = Timeouts(300.0, 30.0)


def open_sqlite(path: Path) -> AirflowDb:
    """A SQLite file, read-only: `mode=ro`, or `immutable=1` for a WAL-mode copy with no WAL beside it, so
    that reading creates no `-wal`/`-shm` files and works from a read-only folder."""
    header = sqlite_header(path)
    wal_mode, wal_beside = header[18:20] == b"\x02\x02", path.with_name(path.name + "-wal").exists()
    options = "immutable=1" if wal_mode and not wal_beside else "mode=ro"  # immutable: nobody has it open
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?{options}", uri=True, isolation_level=None)
    try:
        connection.execute("PRAGMA query_only = 1")
        connection.execute("BEGIN")
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file (and its WAL)
    except sqlite3.Error as exc:
        connection.close()
        if wal_beside and "unable to open" in str(exc):
            raise AirflowDbError(
                f"Airflow SQLite DB {path}: its write-ahead log ({path.name}-wal) must be merged to read it, which "
                'needs a folder the bridge may write to. Make a clean copy (sqlite3 airflow.db ".backup copy.db") '
                "and read that, or read it where it lies with write access to its folder."
            ) from None
        raise query_error(str(path), exc) from None
    return AirflowDb(connection, "sqlite", str(path))


def sqlite_header(path: Path) -> bytes:
    """The first 100 bytes of a SQLite file; a missing, unreadable or foreign file is named, with what to do."""
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except FileNotFoundError:
        raise AirflowDbError(f"Airflow SQLite DB {path}: file not found. Check the path in the URL.") from None
    except IsADirectoryError:
        raise AirflowDbError(f"Airflow SQLite DB {path}: is a folder. Give the path of the database file.") from None
    except PermissionError:
        raise AirflowDbError(
            f"Airflow SQLite DB {path}: permission denied. Run the bridge as a user who may read the file, "
            "or copy it somewhere readable."
        ) from None
    except OSError as exc:
        raise AirflowDbError(f"Airflow SQLite DB {path}: cannot be read ({exc.strerror}).") from None
    if not header.startswith(b"SQLite format 3\x00"):
        raise AirflowDbError(
            f"Airflow SQLite DB {path}: not a SQLite database (damaged, or another kind of file). "
            "Copy it again from Airflow, or check the path."
        )
    return header


def open_postgres(target: DbTarget, timeouts: Timeouts = DEFAULT_TIMEOUTS) -> AirflowDb:
    """Connect with the target's parts as keywords (libpq never sees a URL it could quote back); the URL's
    query options (`sslmode`, `connect_timeout`, ...) are passed on as they are."""
    parts: dict[str, object] = {"host": target.host, "port": target.port, "dbname": target.database,
                                "user": target.username, "password": target.password,
                                "connect_timeout": CONNECT_TIMEOUT_S}  # fmt: skip
    params = {key: value for key, value in parts.items() if value is not None} | dict(target.options)
    redact = Redactor([target.password])
    import psycopg2  # only here: a sync from SQLite or the REST API never loads the driver

    try:
        connection = psycopg2.connect(**params)
    except psycopg2.Error as exc:
        raise connect_error(target.where, redact(first_line(exc))) from None
    except ValueError as exc:  # a NUL character in a part of the URL
        raise ConfigError(f"Airflow DB {target.where}: the connection settings are not valid ({exc}).") from None
    connection.set_session(isolation_level="REPEATABLE READ", readonly=True, autocommit=False)
    _json_as_text(connection)
    try:
        timeouts.set_in(connection)
    except psycopg2.Error as exc:
        connection.close()
        raise query_error(target.where, exc) from None
    return AirflowDb(connection, "postgresql", target.where, psycopg2.Error)


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
    config_words = ("definition of service", "unrecognized configuration parameter", "invalid value for parameter")
    invalid = "invalid" in message and any(words in message for words in ("dsn", "URI", "connection option", "value"))
    if invalid or any(words in message for words in config_words):
        return ConfigError(f"Airflow DB {where}: the connection settings are not valid ({message}).")
    return AirflowDbUnreachableError(
        f"Airflow DB {where}: cannot connect ({message}). Check that the server runs and the host and port."
    )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__
