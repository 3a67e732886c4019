"""Decoding one serialized DAG row into an `AirflowDag` (pure: bytes and dicts in, frozen values out).

Both encodings, as real Airflow releases write them (samples in tests/unit/read/airflow_db/data/):

- Airflow 2.10/2.11, `"__version": 1`: `{"dag": {"_dag_id", "_task_group", "tasks": [...]}}`, operator class
  in `_task_type`; tasks are already wrapped as `{"__type": "operator", "__var": {...}}` on 2.11.
- Airflow 3.x, `"__version": 3`: `dag_id`, `task_group`, `task_type`; values equal to the schema default are
  left out (a leaf task has no `downstream_task_ids`, an owner "airflow" no `owner`), and since 3.1 values
  shared by every task may sit once in a top-level `client_defaults.tasks`.

The row holds the document in `data` (JSON text, or already decoded by the driver) or, when Airflow's
`compress_serialized_dags` is on, in `data_compressed` (zlib-compressed JSON).

Memory: the values kept for every task are what a large installation holds longest, so the strings that
repeat across tasks (operator class and module, owner, template field names) are interned, and a task's
downstream ids are the task ids of its DAG rather than copies decoded from the JSON.

Speed: 30,000 DAGs are ~340,000 tasks, so each task is made once, with its upstream ids already known (no
copy through `dataclasses.replace`), and `unwrap` recurses only into dicts and lists, not into every leaf.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson

from bridge.model.airflow import AirflowDag, AirflowTask, AssetRef, upstream_of
from bridge.read.airflow_db.rows import shared

# Airflow's schema defaults for a task key that is left out of the serialized task.
DEFAULT_OWNER = "airflow"
DEFAULT_OPERATOR = "BaseOperator"
_ALIAS_TYPES = frozenset({"asset_alias", "dataset_alias"})
_ASSET_TYPES = frozenset({"asset", "dataset", "asset_ref"})
_NESTED = (dict, list)  # what `unwrap` recurses into


class SerializedDagError(ValueError):
    """A serialized DAG row that cannot be decoded; the message says why."""


def load_row(data: object, data_compressed: object) -> dict[str, Any]:
    """The serialized DAG document of a row, from `data_compressed` when set, else from `data`."""
    try:
        if data_compressed is not None:
            return _as_document(orjson.loads(zlib.decompress(_as_bytes(data_compressed))))
        if data is None:
            raise SerializedDagError("both data and data_compressed are empty")
        if isinstance(data, str | bytes | bytearray | memoryview):
            return _as_document(orjson.loads(data))
        return _as_document(data)  # a json/jsonb column the driver already decoded
    except zlib.error as exc:
        raise SerializedDagError(f"data_compressed cannot be decompressed ({exc})") from exc
    except orjson.JSONDecodeError as exc:
        raise SerializedDagError(f"the serialized JSON is not valid ({exc})") from exc


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise SerializedDagError(f"data_compressed holds {type(value).__name__}, not bytes")


def _as_document(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("dag"), dict):
        raise SerializedDagError("the document has no `dag` object")
    return value


def unwrap(value: Any) -> Any:
    """Undo Airflow's `{"__type": ..., "__var": ...}` wrapping of dicts, sets, tuples and operators."""
    if isinstance(value, dict):
        if "__var" in value and "__type" in value:
            return unwrap(value["__var"])
        return {k: unwrap(v) if isinstance(v, _NESTED) else v for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) if isinstance(v, _NESTED) else v for v in value]
    return value


def decode_dag(dag_id: str, document: Mapping[str, Any], version_number: int | None) -> AirflowDag:
    """The DAG of one serialized document; raises SerializedDagError when its shape is not Airflow's."""
    dag = document["dag"]
    try:
        defaults = (document.get("client_defaults") or {}).get("tasks") or {}
        groups = task_groups(dag.get("task_group") or dag.get("_task_group") or {})
        tasks = decode_tasks([{**defaults, **_task_body(raw)} for raw in dag.get("tasks") or []], groups)
    except (KeyError, TypeError, AttributeError) as exc:
        raise SerializedDagError(f"a task is not in Airflow's serialized form ({type(exc).__name__}: {exc})") from exc
    return AirflowDag(
        dag_id=dag_id,
        tasks=tasks,
        fileloc=dag.get("fileloc"),
        description=dag.get("description"),
        doc_md=dag.get("doc_md"),
        tags=tuple(sorted(unwrap(dag.get("tags") or []))),
        version_number=version_number,
        deadlines=tuple(_deadline(item) for item in unwrap(dag.get("deadline") or [])),
    )


def _deadline(item: Any) -> str:
    """A deadline alert of a serialized DAG: its id (3.3 lists ids; the reader describes them from
    `deadline_alert`), or the alert itself where it is written inline."""
    body = unwrap(item)
    if isinstance(body, Mapping):
        return describe_deadline(body.get("name"), body.get("reference"), body.get("interval"))
    return str(body)


def describe_deadline(name: object, reference: object, interval: object) -> str:
    """`late_load: 0:30:00 after DagRunLogicalDateDeadline`, from the parts Airflow stores."""
    kind = unwrap(reference)
    kind = kind.get("reference_type", "?") if isinstance(kind, Mapping) else kind
    seconds = seconds_of(interval)
    when = f"{timedelta(seconds=seconds)} after {kind}" if seconds is not None else f"at {kind}"
    return f"{name}: {when}" if name else when


def seconds_of(value: object) -> float | None:
    """Seconds of a serialized duration: a bare number, `{"__var": s, "__type": "timedelta"}`, or the
    `{"__classname__": "datetime.timedelta", "__data__": s}` form of Airflow 3's serde."""
    if isinstance(value, Mapping):
        value = value.get("__data__", value.get("__var"))
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _task_body(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    body = raw.get("__var", raw)
    if not isinstance(body, Mapping):
        raise TypeError(f"task entry is {type(body).__name__}")
    return body


def decode_tasks(bodies: list[Mapping[str, Any]], groups: Mapping[str, str]) -> dict[str, AirflowTask]:
    """task_id -> the task, with its upstream ids (inverted from the downstream ids, all Airflow serializes);
    its downstream ids are the task ids of the DAG (one object each), sorted."""
    own_ids = {body["task_id"]: body["task_id"] for body in bodies}
    downstream = {
        body["task_id"]: tuple(sorted(own_ids.get(d, d) for d in unwrap(body.get("downstream_task_ids") or [])))
        for body in bodies
    }
    upstream = upstream_of(downstream)
    return {
        body["task_id"]: decode_task(body, groups, downstream[body["task_id"]], upstream.get(body["task_id"], ()))
        for body in bodies
    }


def decode_task(
    body: Mapping[str, Any],
    groups: Mapping[str, str],
    downstream: tuple[str, ...] = (),
    upstream: tuple[str, ...] = (),
) -> AirflowTask:
    """One serialized task (unwrapped, defaults applied), with the ids of the tasks next to it."""
    task_id = body["task_id"]
    field_names = unwrap(body.get("template_fields") or [])
    return AirflowTask(
        task_id=task_id,
        operator_class=shared(body.get("task_type") or body.get("_task_type") or DEFAULT_OPERATOR),
        operator_module=shared(body.get("_task_module") or ""),
        owner=shared(body.get("owner") or DEFAULT_OWNER),
        upstream_task_ids=upstream,
        downstream_task_ids=downstream,
        task_group_id=groups.get(task_id),
        template_fields={shared(name): unwrap(body[name]) for name in field_names if name in body},
        outlets=asset_refs(body.get("outlets")),
        inlets=asset_refs(body.get("inlets")),
        doc=body.get("doc_md") or body.get("doc"),
        conn_ids=connection_ids(body),
        sla_seconds=seconds_of(body.get("sla")),
    )


def connection_ids(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The connections a task names in its serialized fields (`conn_id`, `postgres_conn_id`, ...)."""
    found = {unwrap(value) for name, value in body.items() if name == "conn_id" or name.endswith("_conn_id")}
    return tuple(sorted(v for v in found if isinstance(v, str) and v))


def asset_refs(items: object) -> tuple[AssetRef, ...]:
    """Outlets or inlets: assets/datasets by URI, aliases by name (Cosmos' outlets on Airflow 2)."""
    refs = (_asset_ref(item) for item in (items if isinstance(items, list) else []))
    return tuple(ref for ref in refs if ref is not None)


def _asset_ref(item: object) -> AssetRef | None:
    if not isinstance(item, dict):
        return None
    kind = item.get("__type")
    body = unwrap(item)
    if not isinstance(body, dict):
        return None
    if kind in _ALIAS_TYPES and body.get("name"):
        return AssetRef(uri=str(body["name"]), name=str(body["name"]), kind="alias")
    if body.get("uri") and (kind in _ASSET_TYPES or kind is None):
        return AssetRef(uri=str(body["uri"]), name=body.get("name"))
    return None  # a reference by name only: the reference tables hold what Airflow resolved it to


def task_groups(group: Mapping[str, Any], group_id: str | None = None) -> dict[str, str]:
    """task_id -> the full id of the innermost task group holding it (the root group has none).

    A child group is keyed by its full id (`outer.inner`); its own `_group_id` is only the last part.
    """
    found: dict[str, str] = {}
    for key, (kind, child) in (group.get("children") or {}).items():
        if kind == "taskgroup":
            found |= task_groups(child, key)
        elif group_id:
            found[child] = group_id
    return found
