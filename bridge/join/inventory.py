"""What a task uses besides datasets, as an inventory on its job: the connections it names (with their type
and host as Airflow knows them, never a login, password or extra) and the Airflow Variables its templates
read (by name, never a value)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from bridge.model.airflow import AirflowTask, ConnectionInfo

# `{{ var.value.name }}`, `{{ var.json.name.key }}`, `Variable.get("name")` in a template field.
_VARIABLE = re.compile(r"""\bvar\.(?:value|json)\.([A-Za-z0-9_-]+)|\bVariable\.get\(\s*['"]([^'"]+)['"]""")


def inventory_properties(task: AirflowTask, connections: Mapping[str, ConnectionInfo]) -> dict[str, str]:
    found = {}
    if task.conn_ids:
        found["connections"] = ", ".join(_connection(conn_id, connections.get(conn_id)) for conn_id in task.conn_ids)
    names = sorted({name for text in _texts(task.template_fields) for name in _variables(text)})
    if names:
        found["variables"] = ", ".join(names)
    return found


def _connection(conn_id: str, known: ConnectionInfo | None) -> str:
    if known is None:
        return f"{conn_id} (not defined in Airflow's connections)"
    about = ", ".join(part for part in (known.conn_type, known.host) if part)
    return f"{conn_id} ({about})" if about else conn_id


def _variables(text: str) -> Iterator[str]:
    for match in _VARIABLE.finditer(text):
        yield match.group(1) or match.group(2)


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)
