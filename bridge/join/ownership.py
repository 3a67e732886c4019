"""Owners and tags: dbt's to datasets, Airflow's to flows and jobs, producers' to the assets they write."""

from __future__ import annotations

from collections.abc import Iterable

from bridge.model.airflow import split_owners
from bridge.model.dbt import DbtNode, Group

# Airflow's placeholder owner when a DAG names none: not a person.
_PLACEHOLDER_OWNERS = frozenset({"airflow", ""})


def unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v.strip() for v in values if v and v.strip()}))


def node_owners(node: DbtNode, groups_by_name: dict[str, Group]) -> tuple[str, ...]:
    meta_owner = node.meta.get("owner")
    owners = [meta_owner] if isinstance(meta_owner, str) else list(meta_owner or [])
    group = groups_by_name.get(node.group or "")
    if group is not None:
        owners.append(group.owner.email or group.owner.name or "")
    if node.owner is not None:
        owners.append(node.owner.email or node.owner.name or "")
    return unique(o for o in owners if isinstance(o, str))


def airflow_owners(owner_fields: Iterable[str | None]) -> tuple[str, ...]:
    """DAG/task owners (`split_owners`) less Airflow's placeholders (`airflow`, ...)."""
    return tuple(o for o in split_owners(owner_fields) if o.lower() not in _PLACEHOLDER_OWNERS)
