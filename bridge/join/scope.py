"""What of an Airflow snapshot a sync is set to describe: assets in or out (`capture_assets`), and at most
`max_runs_per_dag` runs per DAG (the most recent ones, with their task runs)."""

from __future__ import annotations

from dataclasses import replace

from bridge.model.airflow import AirflowDag, AirflowSnapshot, DagRun, DagRuns, TaskInstances


def scoped(snapshot: AirflowSnapshot, capture_assets: bool, max_runs_per_dag: int | None) -> AirflowSnapshot:
    if not capture_assets:
        snapshot = without_assets(snapshot)
    if max_runs_per_dag is not None:
        snapshot = latest_runs(snapshot, max_runs_per_dag)
    return snapshot


def without_assets(snapshot: AirflowSnapshot) -> AirflowSnapshot:
    """No asset, asset event, outlet, inlet or asset schedule: lineage is then what dbt and Cosmos say."""
    return replace(
        snapshot,
        dags={dag_id: _dag_without_assets(dag) for dag_id, dag in snapshot.dags.items()},
        assets={},
        asset_events=(),
    )


def _dag_without_assets(dag: AirflowDag) -> AirflowDag:
    tasks = {task_id: replace(task, outlets=(), inlets=()) for task_id, task in dag.tasks.items()}
    return replace(dag, tasks=tasks, schedule_assets=())


def latest_runs(snapshot: AirflowSnapshot, limit: int) -> AirflowSnapshot:
    """The `limit` most recent runs of each DAG (by start, else when queued, else logical date, then run id) and
    their task runs."""
    by_dag: dict[str, list[DagRun]] = {}
    for run in snapshot.dag_runs:
        by_dag.setdefault(run.dag_id, []).append(run)
    kept = [r for runs in by_dag.values() for r in sorted(runs, key=_recency, reverse=True)[:limit]]
    keys = {(r.dag_id, r.run_id) for r in kept}
    if len(kept) == len(snapshot.dag_runs):
        return snapshot
    return replace(
        snapshot,
        dag_runs=DagRuns(r for r in snapshot.dag_runs if (r.dag_id, r.run_id) in keys),
        task_instances=TaskInstances(ti for ti in snapshot.task_instances if (ti.dag_id, ti.run_id) in keys),
    )


def _recency(run: DagRun) -> tuple[int, str]:
    """Start, else when it was queued (a run waiting to start, or cleared back to the queue, is as recent as
    that), else logical date (a run with none of them first), then run id: the time the runs are read by."""
    moment = next((t for t in (run.start_us, run.queued_us, run.logical_us) if t is not None), -(2**63))
    return (moment, run.run_id)
