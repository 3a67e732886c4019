"""Where the Airflow metadata DB is: a URL or separate fields -> `DbTarget`, without ever echoing a password.

URLs are parsed here, once, and the driver is given the parts (host, port, user, password, database and the
query's options as keywords), never the URL: a driver that cannot parse a string quotes it in its error.
A password holding `/ # ? @` unencoded makes a URL ambiguous (`postgresql://u:pa/ss@host/db` reads as host
`u`, port `pa`); that is found and reported without quoting any part of the URL, with the two ways out:
percent-encode the password, or give it in the separate `airflow_db` fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, unquote

from bridge.errors import ConfigError

Dialect = Literal["postgresql", "sqlite"]
DEFAULT_PORT = 5432
_URL_PARTS = frozenset({"host", "hostaddr", "port", "dbname", "user", "password"})  # libpq keywords the URL sets
_ENCODE_HINT = (
    "Percent-encode reserved characters in the user name and password (/ as %2F, # as %23, ? as %3F, "
    "@ as %40, : as %3A), or give them in the separate airflow_db fields (host, port, database, username, "
    "password) instead of a URL."
)


@dataclass(frozen=True, slots=True)
class DbTarget:
    """An Airflow metadata DB to open: a PostgreSQL server or a SQLite file. `where` names it in messages."""

    dialect: Dialect
    where: str
    host: str | None = None
    port: int = DEFAULT_PORT
    database: str | None = None
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    options: tuple[tuple[str, str], ...] = ()
    path: str | None = None  # the SQLite file


def parse_db_url(url: str, setting: str = "the Airflow DB URL") -> DbTarget:
    """`postgresql://user:pass@host:port/db?option=value` or `sqlite:///path`; ConfigError without secrets."""
    scheme, separator, rest = url.partition("://")
    scheme = scheme.lower()
    if not separator or not scheme.replace("+", "").replace("-", "").isalnum():
        raise ConfigError(
            f"{setting} has no scheme: use postgresql://user@host:port/database or sqlite:////path/to/airflow.db."
        )
    if scheme.startswith("sqlite"):
        path = unquote(rest.split("?", 1)[0])
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise ConfigError(f"{setting} names no SQLite file: use sqlite:////absolute/path/to/airflow.db.")
        return DbTarget("sqlite", path, path=path)
    if scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
        raise ConfigError(
            f"{setting}: scheme {scheme!r} is not supported: use postgresql://user@host:port/database "
            "or sqlite:////absolute/path/to/airflow.db."
        )
    return _postgres(rest, setting)


def _postgres(rest: str, setting: str) -> DbTarget:
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, remainder = rest[:end], rest[end:]
    if "@" in remainder or "#" in rest:
        problem = "a reserved character seems to stand unencoded in it"
        raise ConfigError(f"{setting} cannot be read: {problem}. " + _ENCODE_HINT)
    userinfo, _, hostport = authority.rpartition("@")
    username, _, password = userinfo.partition(":")
    host, port = _host_and_port(hostport, setting)
    path, _, query = remainder.partition("?")
    database = unquote(path[1:]) if path.startswith("/") and len(path) > 1 else None
    try:
        options = tuple(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise ConfigError(f"{setting}: the options after '?' are not name=value pairs joined by '&'.") from None
    clashing = sorted({name for name, _ in options} & _URL_PARTS)
    if clashing:
        raise ConfigError(f"{setting}: give {', '.join(clashing)} in the URL itself, not as an option after '?'.")
    return DbTarget(
        "postgresql",
        f"{host}:{port}/{database or ''}",
        host=host,
        port=port,
        database=database,
        username=unquote(username) or None,
        password=unquote(password) if password else None,
        options=options,
    )


def _host_and_port(hostport: str, setting: str) -> tuple[str, int]:
    if hostport.startswith("["):  # [IPv6]:port
        host, _, after = hostport[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else ""
    else:
        host, _, port_text = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    if not port_text:
        return unquote(host) or "localhost", DEFAULT_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        # The "port" may be a piece of a password whose reserved characters were not encoded: never quote it.
        raise ConfigError(f"{setting}: the port is not a number from 1 to 65535. " + _ENCODE_HINT)
    return unquote(host) or "localhost", int(port_text)


def target_from_fields(
    host: str, port: int, database: str | None, username: str | None, password: str | None
) -> DbTarget:
    """The target of the separate `airflow_db` fields (the original connector's `metadata_db_*` keys)."""
    if not 0 < port < 65536:
        raise ConfigError(f"airflow_db.port {port} is not a number from 1 to 65535.")
    return DbTarget("postgresql", f"{host}:{port}/{database or ''}", host, port, database, username, password)
