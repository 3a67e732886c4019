"""An Airflow connection to DataHub -> the bridge's sink settings (pure: the connection's fields in, a dict out).

The connection forms are those of DataHub's own Airflow plugin, so a team that has one keeps it:

- `datahub-rest` (or `datahub_rest`): host the GMS URL, port unless it is in the host, password the token,
  extra `timeout_sec`;
- `datahub-kafka` (or `datahub_kafka`): host the brokers, port, extra
  `{"connection": {"schema_registry_url": ...}}`;
- `datahub-file` (or `datahub_file`): host the file to write.

A connection of another type, or without the fields its type needs, is one ConfigError naming the
connection id and what to set; the password never appears in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bridge.errors import ConfigError

DEFAULT_CONN_ID = "datahub_rest_default"


def sink_settings(
    conn_id: str,
    conn_type: str | None,
    host: str | None,
    port: int | None = None,
    password: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The `sink:` section a connection stands for. A setting of the connection the bridge does not carry
    out (DataHub's emitters take more extras: headers, TLS, SASL) is an error naming the key, never dropped."""
    kind = (conn_type or "").replace("_", "-").lower()
    extra = dict(extra or {})
    if kind == "datahub-rest":
        return _rest(conn_id, _host(conn_id, host, "the GMS URL"), port, password, extra)
    if kind == "datahub-kafka":
        return _kafka(conn_id, host, port, extra)
    if kind == "datahub-file":
        _unsupported(conn_id, extra, set())
        return {"type": "file", "path": _host(conn_id, host, "the file to write")}
    raise ConfigError(
        f"Airflow connection {conn_id!r} is of type {conn_type!r}; the bridge writes to DataHub through a "
        "connection of type datahub-rest (host: the GMS URL, password: the token), datahub-kafka or datahub-file, "
        "as DataHub's Airflow plugin does."
    )


def _rest(conn_id: str, host: str, port: int | None, token: str | None, extra: dict[str, Any]) -> dict[str, Any]:
    _unsupported(conn_id, extra, {"timeout_sec"})
    parts = urlsplit(host if "://" in host else f"http://{host}")
    if parts.username or parts.password:
        raise ConfigError(f"Airflow connection {conn_id!r} has credentials in its host: put the token in its password.")
    netloc = parts.netloc
    if port:
        if parts.port is not None:
            raise ConfigError(
                f"Airflow connection {conn_id!r} gives a port in its host and in its port field: keep one."
            )
        netloc = f"{netloc}:{port}"
    settings: dict[str, Any] = {"type": "datahub-rest", "server": urlunsplit(parts._replace(netloc=netloc))}
    if token:
        settings["token"] = token
    if extra.get("timeout_sec") is not None:
        try:
            settings["timeout"] = float(extra["timeout_sec"])
        except (TypeError, ValueError):
            raise ConfigError(
                f"Airflow connection {conn_id!r}: extra timeout_sec is not a number of seconds."
            ) from None
    return settings


def _kafka(conn_id: str, host: str | None, port: int | None, extra: dict[str, Any]) -> dict[str, Any]:
    connection = extra.get("connection") or {}
    if not isinstance(connection, Mapping):
        raise ConfigError(f"Airflow connection {conn_id!r}: extra `connection` must be a mapping.")
    _unsupported(conn_id, {k: v for k, v in extra.items() if k != "connection"}, set())
    _unsupported(conn_id, dict(connection), {"bootstrap", "schema_registry_url"}, "connection.")
    if host and connection.get("bootstrap"):
        raise ConfigError(f"Airflow connection {conn_id!r} names the brokers twice (host and extra): keep one.")
    brokers = ":".join(str(p) for p in (host, port) if p) if host else str(connection.get("bootstrap") or "")
    settings = {"type": "datahub-kafka", "bootstrap": _host(conn_id, brokers, "the brokers")}
    if connection.get("schema_registry_url"):
        settings["schema_registry_url"] = str(connection["schema_registry_url"])
    return settings


def _host(conn_id: str, host: str | None, what: str) -> str:
    if not host:
        raise ConfigError(f"Airflow connection {conn_id!r} has no host: set it to {what}.")
    return host


def _unsupported(conn_id: str, extra: Mapping[str, Any], known: set[str], prefix: str = "") -> None:
    unknown = sorted(f"{prefix}{key}" for key in extra if key not in known)
    if unknown:
        raise ConfigError(
            f"Airflow connection {conn_id!r}: the bridge does not carry out extra {', '.join(unknown)} "
            f"(it reads {', '.join(sorted(f'{prefix}{k}' for k in known)) or 'no extra'} for this type); remove "
            "them, or sync with `python -m bridge sync` and a sink configured there."
        )
