"""Decoding one serialized DAG row into an `AirflowDag` (pure: bytes and dicts in, frozen values out).

Both encodings: Airflow 2 (`_dag_id`, `_task_group`, `_task_type`) and Airflow 3 (`dag_id`, `task_group`,
`task_type`), tasks wrapped as `{"__type": "operator", "__var": {...}}` (2.11 does this too) or bare;
`data` as JSON (text or already decoded) or `data_compressed` (zlib).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import orjson

from bridge.model.airflow import AirflowDag, AirflowTask, AssetRef

_ALIAS_TYPES = frozenset({"asset_alias", "dataset_alias"})
_ASSET_TYPES = frozenset({"asset", "dataset"})


class SerializedDagError(ValueError):
    """A serialized DAG row that cannot be decoded."""


def load_row(data: object, data_compressed: object) -> dict[str, Any]:
    """The serialized DAG document of a row, from `data` or `data_compressed`."""
    try:
        if data_compressed is not None:
            return _as_document(orjson.loads(zlib.decompress(_as_bytes(data_compressed))))
        if isinstance(data, str):
            return _as_document(orjson.loads(data))
        if isinstance(data, bytes | bytearray | memoryview):
            return _as_document(orjson.loads(bytes(data)))
        return _as_document(data)
    except zlib.error as exc:
        raise SerializedDagError(f"data_compressed cannot be decompressed ({exc})") from exc
    except orjson.JSONDecodeError as exc:
        raise SerializedDagError(f"data is not valid JSON ({exc})") from exc


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise SerializedDagError(f"data_compressed is {type(value).__name__}, not bytes")


def _as_document(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("dag"), dict):
        raise SerializedDagError("the document has no `dag` object")
    return value


def unwrap(value: Any) -> Any:
    """Undo Airflow's `{"__type": ..., "__var": ...}` wrapping of dicts, sets, tuples and operators."""
    if isinstance(value, dict) and "__var" in value and "__type" in value:
        return unwrap(value["__var"])
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def decode_dag(dag_id: str, document: dict[str, Any], version_number: int | None) -> AirflowDag:
    dag = document["dag"]
    groups = task_groups(dag.get("task_group") or dag.get("_task_group") or {})
    tasks = [_task(raw, groups) for raw in dag.get("tasks", [])]
    upstream: dict[str, list[str]] = {t.task_id: [] for t in tasks}
    for task in tasks:
        for downstream in task.downstream_task_ids:
            upstream.setdefault(downstream, []).append(task.task_id)
    return AirflowDag(
        dag_id=dag_id,
        tasks={t.task_id: _with_upstream(t, upstream.get(t.task_id, [])) for t in tasks},
        fileloc=dag.get("fileloc"),
        description=dag.get("description"),
        doc_md=dag.get("doc_md"),
        tags=tuple(sorted(unwrap(dag.get("tags") or []))),
        version_number=version_number,
    )


def _with_upstream(task: AirflowTask, upstream: list[str]) -> AirflowTask:
    from dataclasses import replace

    return replace(task, upstream_task_ids=tuple(sorted(upstream)))


def _task(raw: Mapping[str, Any], groups: Mapping[str, str]) -> AirflowTask:
    var = raw.get("__var", raw)
    task_id = var["task_id"]
    fields = var.get("template_fields") or ()
    return AirflowTask(
        task_id=task_id,
        operator_class=var.get("task_type") or var.get("_task_type") or "",
        operator_module=var.get("_task_module") or "",
        owner=var.get("owner"),
        downstream_task_ids=tuple(sorted(var.get("downstream_task_ids") or ())),
        task_group_id=groups.get(task_id),
        template_fields={name: unwrap(var[name]) for name in fields if name in var},
        outlets=_refs(var.get("outlets")),
        inlets=_refs(var.get("inlets")),
        doc=var.get("doc_md") or var.get("doc"),
    )


def _refs(items: object) -> tuple[AssetRef, ...]:
    refs = []
    for item in items if isinstance(items, list) else []:
        kind = item.get("__type") if isinstance(item, dict) else None
        body = unwrap(item)
        if kind in _ALIAS_TYPES and isinstance(body, dict):
            refs.append(AssetRef(uri=str(body.get("name", "")), name=body.get("name"), kind="alias"))
        elif isinstance(body, dict) and body.get("uri") and (kind in _ASSET_TYPES or kind is None):
            refs.append(AssetRef(uri=str(body["uri"]), name=body.get("name")))
    return tuple(refs)


def task_groups(group: Mapping[str, Any], parent: str | None = None) -> dict[str, str]:
    """task_id -> the id of the innermost task group holding it (the root group has no id)."""
    found: dict[str, str] = {}
    group_id = group.get("_group_id")
    for kind, child in (group.get("children") or {}).values():
        if kind == "taskgroup":
            found |= task_groups(child, group_id or parent)
        elif group_id:
            found[child] = group_id
    return found
