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
    """The `sink:` section a connection stands for."""
    kind = (conn_type or "").replace("_", "-").lower()
    extra = dict(extra or {})
    if not host:
        what = "the file to write" if kind == "datahub-file" else "the server" if kind != "datahub-kafka" else "brokers"
        raise ConfigError(f"Airflow connection {conn_id!r} has no host: set it to {what}.")
    if kind == "datahub-rest":
        server = _with_port(host, port, conn_id)
        if "://" not in server:
            server = f"http://{server}"
        settings: dict[str, Any] = {"type": "datahub-rest", "server": server}
        if password:
            settings["token"] = password
        if extra.get("timeout_sec") is not None:
            settings["timeout"] = float(extra["timeout_sec"])
        return settings
    if kind == "datahub-kafka":
        connection = dict(extra.get("connection") or {})
        if connection.get("bootstrap"):
            raise ConfigError(f"Airflow connection {conn_id!r} names the brokers twice (host and extra): keep one.")
        settings = {"type": "datahub-kafka", "bootstrap": _with_port(host, port, conn_id)}
        if connection.get("schema_registry_url"):
            settings["schema_registry_url"] = str(connection["schema_registry_url"])
        return settings
    if kind == "datahub-file":
        return {"type": "file", "path": host}
    raise ConfigError(
        f"Airflow connection {conn_id!r} is of type {conn_type!r}; the bridge writes to DataHub through a "
        "connection of type datahub-rest (host: the GMS URL, password: the token), datahub-kafka or datahub-file, "
        "as DataHub's Airflow plugin does."
    )


def _with_port(host: str, port: int | None, conn_id: str) -> str:
    if not port:
        return host
    if ":" in host.split("://", 1)[-1]:
        raise ConfigError(f"Airflow connection {conn_id!r} gives a port in its host and in its port field: keep one.")
    return f"{host}:{port}"
