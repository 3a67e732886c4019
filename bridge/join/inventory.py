"""What a task uses besides datasets, as an inventory on its job: the connections it names (with their type
and host as Airflow knows them, never a login, password or extra) and the Airflow Variables its templates
read (by name, never a value)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from bridge.model.airflow import AirflowTask, ConnectionInfo
from bridge.redact import Redactor

# `{{ var.value.get('name', default) }}`, `{{ var.value['name'] }}`, `{{ var.value.name }}`,
# `{{ var.json.name.key }}`, `Variable.get("name")` in a template field (the first forms first: `get` is no name).
_VARIABLE = re.compile(
    r"""\bvar\.(?:value|json)\.get\(\s*['"]([^'"]+)['"]"""
    r"""|\bvar\.(?:value|json)\[\s*['"]([^'"]+)['"]\s*\]"""
    r"""|\bvar\.(?:value|json)\.([A-Za-z0-9_-]+)"""
    r"""|\bVariable\.get\(\s*['"]([^'"]+)['"]"""
)


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
    # a host written as a URL may carry user info: what has a credential's shape is masked
    return Redactor()(f"{conn_id} ({about})") if about else conn_id


def _variables(text: str) -> Iterator[str]:
    for match in _VARIABLE.finditer(text):
        yield next(group for group in match.groups() if group)


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)
