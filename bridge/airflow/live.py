"""A snapshot of the DAG a task runs in, from what Airflow hands that task: the operator's reader.

Airflow 3 does not let task code open the metadata database, so the bridge opens none, on any release, and
sends no SQL or REST call of its own. It takes

- the DAG object, serialized by Airflow's own serializer (what the scheduler stores in `serialized_dag`)
  and decoded by the same function the DB reader uses, so tasks, operator classes, Cosmos selectors in
  template fields, dependencies and task groups are read identically;
- the DAG's facts the `dag` table would hold (owners, tags, description, schedule, paused);
- this DAG run (from the context) and its task instances as far as the release gives them to task code:
  on Airflow 2 the DagRun's `get_task_instances()` and the DAG's `get_is_paused()` (Airflow's own methods,
  which query through Airflow's session); on Airflow 3 the Task SDK: each finished task's state, map index,
  operator and duration (`get_task_breadcrumbs`, 3.2+), or only the states (`get_task_states`, 3.0/3.1).
  Their start and end times and try numbers are not given: such a run is marked as seen finished at `seen`
  (the moment this task looked), with its duration where known. The running task itself is known in full.

What cannot be known from inside is listed as the snapshot's limitations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from bridge.model.airflow import AirflowDag, AirflowSnapshot, DagRun, DagRuns, TaskInstance, TaskInstances, split_owners
from bridge.read.airflow_db.rows import schedule_text, shared
from bridge.read.airflow_db.run_conf import run_conf
from bridge.read.airflow_db.serialized_dag import decode_dag
from bridge.times import epoch_us

LIMITATIONS = (
    "read from inside a running task: only this DAG and this run, no asset events; this run and the bridge task "
    "are still running (sent as started: their end is for a later sync from the metadata DB)",
)
AIRFLOW3_LIMITATIONS = (
    "Airflow 3 gives task code no start and end times or try numbers of the other tasks: a finished task is sent "
    "as seen at the moment the bridge task looked (attempt 1), with its duration from Airflow 3.2 on, and a task "
    "not finished then (one that runs beside or after the bridge task) is not listed; the DAG version number is "
    "not given, nor (before 3.2) whether the DAG is paused",
)


def snapshot_of_run(context: Mapping[str, Any], seen: datetime | None = None) -> AirflowSnapshot:
    """Everything a sync needs of the DAG the running task belongs to. `seen`: now, unless given (tests)."""
    import airflow

    ti, dag, dag_run = context["ti"], context["dag"], context["dag_run"]
    moment = epoch_us(seen or datetime.now(timezone.utc))
    version = str(airflow.__version__)
    return AirflowSnapshot(
        source="task",
        airflow_version=version,
        schema_revision=None,
        dags={dag.dag_id: dag_of(dag, _is_paused(ti, dag))},
        dag_runs=DagRuns([this_run(dag_run)]),
        task_instances=TaskInstances(task_instances(ti, dag, dag_run, moment)),
        limitations=LIMITATIONS + (AIRFLOW3_LIMITATIONS if _major() >= 3 else ()),
    )


def serialized_document(dag: Any) -> dict[str, Any]:
    """The DAG as the scheduler serializes it (Airflow 3: `DagSerialization`, Airflow 2: `SerializedDAG`)."""
    document: dict[str, Any] = _serializer().to_dict(dag)
    return document


def _serializer() -> Any:
    try:
        from airflow.serialization.serialized_objects import DagSerialization
    except ImportError:  # Airflow 2.x and early 3.x call it SerializedDAG
        from airflow.serialization.serialized_objects import SerializedDAG

        return SerializedDAG
    return DagSerialization


def dag_of(dag: Any, is_paused: bool) -> AirflowDag:
    """The DAG with the facts of its `dag` row, as the DB reader's `with_dag_facts` gives them."""
    document = serialized_document(dag)
    decoded = decode_dag(dag.dag_id, document, None)
    return replace(
        decoded,
        owners=split_owners(str(task.owner or "") for task in dag.tasks),
        description=dag.description or decoded.description,
        schedule=schedule_of(dag, document),
        is_paused=is_paused,
        tags=tuple(sorted(set(decoded.tags) | {str(t) for t in dag.tags or ()})),
    )


def schedule_of(dag: Any, document: dict[str, Any]) -> str | None:
    """What the `dag` table shows as the schedule: Airflow 2's `schedule_interval` when it is text, else the
    timetable's summary (Airflow 3's `timetable_summary`, which the scheduler takes from the deserialized
    DAG: task code holds the Task SDK's timetable, which has none)."""
    if _major() == 2:
        interval = getattr(dag, "schedule_interval", None)
        summary = interval if isinstance(interval, str) else getattr(dag.timetable, "summary", None)
    else:
        summary = _serializer().from_dict(document).timetable.summary
    return schedule_text(summary)


def this_run(dag_run: Any) -> DagRun:
    logical = getattr(dag_run, "logical_date", None) or getattr(dag_run, "execution_date", None)
    return DagRun(
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        state=_text(getattr(dag_run, "state", None)),  # the Task SDK of Airflow 3.0 does not give it
        run_type=_text(dag_run.run_type),
        logical_us=epoch_us(logical),
        start_us=epoch_us(dag_run.start_date),
        end_us=epoch_us(dag_run.end_date),
        queued_us=epoch_us(getattr(dag_run, "queued_at", None)),  # not in Airflow 3's Task SDK
        conf=run_conf(dict(dag_run.conf) if dag_run.conf else None),
    )


def task_instances(ti: Any, dag: Any, dag_run: Any, seen: int | None) -> Iterable[TaskInstance]:
    """This run's task instances: in full on Airflow 2, from the Task SDK on Airflow 3; the running task
    (`ti`) in full on both."""
    if _major() == 2:
        others = [instance_of(row) for row in dag_run.get_task_instances()]
    else:
        others = sdk_instances(ti, dag, dag_run, seen)
    own = (ti.task_id, ti.map_index if ti.map_index is not None else -1)
    # This task is running, whatever its object still says (Airflow 2's `dags test` leaves it `scheduled`).
    mine = replace(instance_of(ti, dag_id=dag.dag_id, run_id=dag_run.run_id), state="running")
    return [i for i in others if (i.task_id, i.map_index) != own] + [mine]


def instance_of(row: Any, dag_id: str | None = None, run_id: str | None = None) -> TaskInstance:
    """A task instance object (Airflow 2's model, Airflow 3's RuntimeTaskInstance) as the model's value."""
    start, end = getattr(row, "start_date", None), getattr(row, "end_date", None)
    duration = getattr(row, "duration", None)
    return TaskInstance(
        dag_id=dag_id or row.dag_id,
        task_id=row.task_id,
        run_id=run_id or row.run_id,
        state=_text(getattr(row, "state", None)),
        try_number=int(row.try_number or 0),
        map_index=int(row.map_index if row.map_index is not None else -1),
        start_us=epoch_us(start),
        end_us=epoch_us(end),
        duration=float(duration) if duration is not None else None,
        operator=shared(getattr(row, "operator", None) or type(getattr(row, "task", row)).__name__),
        hostname=getattr(row, "hostname", None) or None,
    )


def sdk_instances(ti: Any, dag: Any, dag_run: Any, seen: int | None) -> list[TaskInstance]:
    """Airflow 3: the finished task instances of this run, as the Task SDK reports them."""
    breadcrumbs = getattr(type(ti), "get_task_breadcrumbs", None)
    if breadcrumbs is not None:
        return [
            TaskInstance(
                dag_id=dag.dag_id,
                task_id=str(crumb["task_id"]),
                run_id=dag_run.run_id,
                state=_text(crumb.get("state")),
                map_index=int(crumb.get("map_index", -1) if crumb.get("map_index") is not None else -1),
                duration=float(crumb["duration"]) if crumb.get("duration") is not None else None,
                operator=crumb.get("operator"),
                seen_us=seen,
            )
            for crumb in breadcrumbs(dag.dag_id, dag_run.run_id)
        ]
    states = ti.get_task_states(dag_id=dag.dag_id, run_ids=[dag_run.run_id]).get(dag_run.run_id, {})
    return [
        TaskInstance(dag.dag_id, task_id, dag_run.run_id, _text(state), map_index=index, seen_us=seen)
        for (task_id, index), state in split_state_keys(states, set(dag.task_ids)).items()
    ]


def split_state_keys(states: Mapping[str, Any], task_ids: set[str]) -> dict[tuple[str, int], Any]:
    """`get_task_states` keys a mapped instance `<task_id>_<map_index>`: back to (task_id, map_index)."""
    found: dict[tuple[str, int], Any] = {}
    for key, state in states.items():
        task_id, _, index = key.rpartition("_")
        if key not in task_ids and task_id in task_ids and index.isdigit():
            found[(task_id, int(index))] = state
        else:
            found[(key, -1)] = state
    return found


def _is_paused(ti: Any, dag: Any) -> bool:
    """Airflow 2: the DAG's own `get_is_paused()`; Airflow 3.2+: the Task SDK's `get_dag`; else False."""
    if _major() == 2:
        return bool(dag.get_is_paused())
    get_dag = getattr(type(ti), "get_dag", None)
    return bool(get_dag(dag.dag_id).is_paused) if get_dag is not None else False


def _text(value: Any) -> str | None:
    """An Airflow enum (state, run type) or text, as its value."""
    if value is None:
        return None
    text: str = shared(str(getattr(value, "value", value)))
    return text


def _major() -> int:
    import airflow

    return int(str(airflow.__version__).split(".")[0])
