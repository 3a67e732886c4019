"""DAG runs and task instances -> runs (DataHub DataProcessInstances), every Airflow state mapped."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from bridge.model.airflow import DagRun, TaskInstance
from bridge.model.graph import Job, JobKey, Run, RunType, known_run_type
from bridge.redact import MASK, Redactor, looks_secret
from bridge.times import iso_of_us, ms_of_us

# Airflow state -> (DataHub run status, DataHub run result). Unfinished states have no result yet.
_STATES: dict[str, tuple[str, str | None]] = {
    "success": ("COMPLETE", "SUCCESS"),
    "failed": ("COMPLETE", "FAILURE"),
    "upstream_failed": ("COMPLETE", "FAILURE"),
    "skipped": ("COMPLETE", "SKIPPED"),
    "removed": ("COMPLETE", "SKIPPED"),
    "up_for_retry": ("COMPLETE", "UP_FOR_RETRY"),
    "up_for_reschedule": ("STARTED", None),
    "running": ("STARTED", None),
    "queued": ("STARTED", None),
    "scheduled": ("STARTED", None),
    "deferred": ("STARTED", None),
    "restarting": ("STARTED", None),
}


def status_of(state: str | None) -> tuple[str, str | None]:
    return _STATES.get((state or "").lower(), ("STARTED", None))


def redacted_conf(value: Any) -> Any:
    """A run's conf with the values of secret-looking keys masked, at any depth (a conf is a tree: the
    reader made it one)."""
    if isinstance(value, Mapping):
        return {str(k): MASK if looks_secret(str(k)) else redacted_conf(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted_conf(v) for v in value]
    return value


def conf_property(conf: Mapping[str, Any] | None) -> str | None:
    """The conf as one JSON text (keys sorted), secret-looking keys masked and, in every value, what has the
    shape of a credential (a URL's user info, a bearer token, `password=...`); None when empty."""
    if conf is None:
        return "(not read: not plain data)"
    if not conf:
        return None
    return Redactor()(json.dumps(redacted_conf(conf), sort_keys=True, default=str))


def dag_run(run: DagRun, cluster: str) -> Run:
    status, result = status_of(run.state)
    given = {"run_type": run.run_type, "logical_date": iso_of_us(run.logical_us), "conf": conf_property(run.conf)}
    properties = {k: v for k, v in given.items() if v}
    return Run(
        run_id=run.run_id,
        dag_id=run.dag_id,
        task_id=None,
        cluster=cluster,
        status=status,
        result=result,
        start_ms=ms_of_us(run.start_us),
        end_ms=ms_of_us(run.end_us),
        properties=properties,
        run_type=known_run_type(run.run_type),
    )


def task_run(
    instance: TaskInstance,
    job: Job | None,
    cluster: str,
    run_type: RunType | None = None,
    dag_run_end_ms: int | None = None,
) -> Run:
    """A task instance as a run (of its DAG run's type). One whose times are unknown but that was seen
    finished (Airflow 3, read from inside a task) ends when it was seen, with its own duration; one that
    finished without ever running (skipped, upstream_failed, removed: Airflow gives it no times) ends when its
    DAG run ended, the moment its result was settled by, so that DataHub shows that result."""
    status, result = status_of(instance.state)
    given = {
        "state": instance.state or "none",
        "try_number": str(instance.try_number) if instance.try_number > 0 else None,
        "duration": f"{instance.duration:.3f}" if instance.duration is not None else None,
        "map_index": str(instance.map_index) if instance.map_index >= 0 else None,
    }
    properties = {k: v for k, v in given.items() if v is not None}
    end_ms = ms_of_us(instance.end_us)
    if end_ms is None and instance.start_us is None and status == "COMPLETE":
        end_ms = ms_of_us(instance.seen_us) if instance.seen_us is not None else dag_run_end_ms
    return Run(
        run_id=instance.run_id,
        dag_id=instance.dag_id,
        task_id=instance.task_id,
        cluster=cluster,
        status=status,
        result=result,
        start_ms=ms_of_us(instance.start_us),
        end_ms=end_ms,
        attempt=max(instance.try_number, 1),
        inputs=job.inputs if job else (),
        outputs=job.outputs if job else (),
        properties=properties,
        duration_ms=round(instance.duration * 1000) if instance.duration is not None else None,
        map_index=instance.map_index,
        run_type=run_type,
    )


def build_runs(
    dag_runs: Iterable[DagRun], instances: Iterable[TaskInstance], jobs: Mapping[JobKey, Job], cluster: str
) -> list[Run]:
    runs = [dag_run(run, cluster) for run in dag_runs]
    by_key = {(run.dag_id, run.run_id): run for run in runs}
    for ti in instances:
        parent = by_key.get((ti.dag_id, ti.run_id))
        job = jobs.get(JobKey(ti.dag_id, ti.task_id, cluster))
        runs.append(task_run(ti, job, cluster, parent.run_type if parent else None, parent.end_ms if parent else None))
    return sorted(runs, key=lambda r: (r.dag_id, r.run_id, r.task_id or "", r.map_index, r.attempt))
