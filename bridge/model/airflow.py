"""What Airflow knows: DAGs, tasks, assets, asset events, runs. Frozen values, no I/O.

The same types come out of the metadata-DB reader and the REST reader, so the join never knows which it got.
Times are ISO-8601 strings in UTC as Airflow stored them (no parsing in the core, no wall clock), except in run
history: DAG runs and task instances, of which an installation has hundreds of thousands, keep epoch
microseconds (`bridge.times` converts) and are held as columns (`DagRuns`, `TaskInstances`: `columns.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from bridge.model.columns import ANY, FLOAT, INT, TEXT, TIME, Columns
from bridge.model.report import Problem

NO_CONF: Mapping[str, Any] = MappingProxyType({})  # the conf of a run given none (most runs), shared


@dataclass(frozen=True, slots=True)
class AssetRef:
    """An asset (Airflow 3) or dataset (Airflow 2) as a task or schedule refers to it."""

    uri: str
    name: str | None = None
    kind: Literal["asset", "alias"] = "asset"


@dataclass(frozen=True, slots=True)
class AirflowTask:
    task_id: str
    operator_class: str
    operator_module: str
    owner: str | None = None
    upstream_task_ids: tuple[str, ...] = ()
    downstream_task_ids: tuple[str, ...] = ()
    task_group_id: str | None = None
    # Template field values as serialized (Cosmos keeps its node selector here: `select`, `models`, ...).
    template_fields: Mapping[str, Any] = field(default_factory=dict)
    # False where the source could not give the values (REST, for a task that never ran): an absent `select`
    # then says nothing, while from the DB it means the operator was given none.
    template_values_known: bool = True
    outlets: tuple[AssetRef, ...] = ()
    inlets: tuple[AssetRef, ...] = ()
    doc: str | None = None
    conn_ids: tuple[str, ...] = ()  # connections named in its fields (`conn_id`, `postgres_conn_id`, ...)
    sla_seconds: float | None = None  # Airflow 2's task SLA

    @property
    def is_cosmos(self) -> bool:
        return self.operator_module.startswith("cosmos.")


@dataclass(frozen=True, slots=True)
class AirflowDag:
    dag_id: str
    tasks: Mapping[str, AirflowTask]
    fileloc: str | None = None
    description: str | None = None
    doc_md: str | None = None
    owners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    is_paused: bool = False
    is_active: bool = True
    schedule: str | None = None
    # Assets the DAG is scheduled on (asset-triggered DAGs).
    schedule_assets: tuple[AssetRef, ...] = ()
    # Airflow 3 keeps one serialized version per change; we read the latest only.
    version_number: int | None = None
    # Airflow 3.1+ deadline alerts, described (`late_load: 0:30:00 after DagRunLogicalDateDeadline`).
    deadlines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Asset:
    uri: str
    name: str | None = None
    group: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    # DAG/task pairs that declare this asset as an outlet or inlet (from the reference tables).
    producing_tasks: tuple[tuple[str, str], ...] = ()
    consuming_tasks: tuple[tuple[str, str], ...] = ()
    scheduled_dags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AssetEvent:
    """An asset update a task run reported: this is where Cosmos outputs live on Airflow 3."""

    asset_uri: str
    timestamp: str
    source_dag_id: str | None = None
    source_task_id: str | None = None
    source_run_id: str | None = None
    source_map_index: int = -1


@dataclass(frozen=True, slots=True)
class DagRun:
    """A DAG run; times in epoch microseconds (UTC)."""

    dag_id: str
    run_id: str
    state: str | None
    run_type: str | None = None
    logical_us: int | None = None
    start_us: int | None = None
    end_us: int | None = None
    queued_us: int | None = None  # when it was last queued (a run cleared back to the queue has no start)
    conf: Mapping[str, Any] | None = field(default_factory=lambda: NO_CONF, hash=False)  # None: not plain data


@dataclass(frozen=True, slots=True)
class TaskInstance:
    """A task instance; times in epoch microseconds (UTC)."""

    dag_id: str
    task_id: str
    run_id: str
    state: str | None
    try_number: int = 0
    map_index: int = -1
    start_us: int | None = None
    end_us: int | None = None
    duration: float | None = None
    operator: str | None = None
    hostname: str | None = None
    # When the state was seen, for an instance whose times are not known (Airflow 3 gives task code the
    # other tasks' states and durations, not their start and end).
    seen_us: int | None = None


class DagRuns(Columns[DagRun]):
    """DAG runs held as columns (`columns.py`): a run is a `DagRun` when read."""

    __slots__ = ()
    record = DagRun
    kinds = (TEXT, TEXT, TEXT, TEXT, TIME, TIME, TIME, TIME, ANY)


class TaskInstances(Columns[TaskInstance]):
    """Task instances held as columns (`columns.py`): ~30-50 bytes each instead of ~400 as objects with ISO
    times; an instance is a `TaskInstance` when read."""

    __slots__ = ()
    record = TaskInstance
    kinds = (TEXT, TEXT, TEXT, TEXT, INT, INT, TIME, TIME, FLOAT, TEXT, TEXT, TIME)


@dataclass(frozen=True, slots=True)
class ImportErrorInfo:
    filename: str
    timestamp: str | None
    message: str


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """A connection's id, type and host: never its login, password or extras."""

    conn_id: str
    conn_type: str | None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class VariableInfo:
    """A variable's name only: never its value."""

    key: str


@dataclass(frozen=True, slots=True)
class AirflowSnapshot:
    """Everything read from one Airflow installation in one sync."""

    source: Literal["db", "api", "db+api", "task"]  # "task": from inside a running DAG (bridge.airflow)
    airflow_version: str | None
    schema_revision: str | None
    dags: Mapping[str, AirflowDag]
    assets: Mapping[str, Asset] = field(default_factory=dict)
    asset_events: tuple[AssetEvent, ...] = ()
    # Run history as columns; any iterable of the records given here is held so.
    dag_runs: DagRuns = field(default_factory=DagRuns)
    task_instances: TaskInstances = field(default_factory=TaskInstances)
    import_errors: tuple[ImportErrorInfo, ...] = ()
    connections: tuple[ConnectionInfo, ...] = ()
    variables: tuple[VariableInfo, ...] = ()
    # Rows that could not be read (a corrupt serialized DAG, ...): reported, the rest still read.
    problems: tuple[Problem, ...] = ()
    # What this source could not provide (e.g. REST has no template-field values before a run).
    limitations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.dag_runs, DagRuns):
            object.__setattr__(self, "dag_runs", DagRuns(self.dag_runs))
        if not isinstance(self.task_instances, TaskInstances):
            object.__setattr__(self, "task_instances", TaskInstances(self.task_instances))


def upstream_ids(tasks: Iterable[AirflowTask]) -> dict[str, tuple[str, ...]]:
    """task_id -> the tasks directly upstream of it, from the downstream ids (all that Airflow serializes and
    its API lists)."""
    return upstream_of({task.task_id: task.downstream_task_ids for task in tasks})


def upstream_of(downstream: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """task_id -> the tasks directly upstream of it, from task_id -> its downstream ids; the one place these
    edges are inverted."""
    upstream: dict[str, list[str]] = {}
    for task_id, ids in downstream.items():
        for downstream_id in ids:
            upstream.setdefault(downstream_id, []).append(task_id)
    return {task_id: tuple(sorted(ids)) for task_id, ids in upstream.items()}


def split_owners(fields: Iterable[str | None]) -> tuple[str, ...]:
    """The owner names in Airflow's owner fields (a DAG's or task's `owner` holds several, comma-separated),
    stripped, without duplicates, sorted."""
    return tuple(sorted({name.strip() for field in fields if field for name in field.split(",") if name.strip()}))
