"""`capture_assets: false` leaves every asset out; `max_runs_per_dag` keeps each DAG's most recent runs."""

from __future__ import annotations

from dataclasses import replace

from bridge.join.pipeline import join_lineage
from bridge.join.settings import JoinSettings
from bridge.model.airflow import AirflowSnapshot, DagRun, TaskInstance
from bridge.model.dbt import DbtProject
from bridge.times import epoch_us
from tests.unit.join.test_pipeline import snapshot


def test_without_assets_no_asset_dataset_or_edge_remains(postgres_project: DbtProject) -> None:
    with_assets = join_lineage([postgres_project], snapshot(), JoinSettings())
    without = join_lineage([postgres_project], snapshot(), JoinSettings(capture_assets=False))

    assert any(d.subtype == "Asset" or d.key.platform == "airflow" for d in with_assets.datasets)
    assert not [d for d in without.datasets if d.dbt_unique_id is None]
    assert {j.key for j in without.jobs} == {j.key for j in with_assets.jobs}
    cosmos = [j for j in without.jobs if j.dbt_unique_id]
    assert cosmos and all(j.outputs for j in cosmos if j.cosmos is not None and j.cosmos.role == "run")


def test_runs_are_capped_per_dag_keeping_the_latest(postgres_project: DbtProject) -> None:
    runs = [
        DagRun("a", f"run_{day:02d}", "success", start_us=epoch_us(f"2026-11-{day:02d}T00:00:00Z"))
        for day in range(1, 6)
    ]
    runs += [DagRun("b", "only", "failed", logical_us=epoch_us("2026-10-01T00:00:00Z"))]
    instances = [TaskInstance(r.dag_id, "t", r.run_id, "success") for r in runs]
    base: AirflowSnapshot = replace(snapshot(), dag_runs=tuple(runs), task_instances=tuple(instances))

    graph = join_lineage([postgres_project], base, JoinSettings(max_runs_per_dag=2))

    dag_runs = {(r.dag_id, r.run_id) for r in graph.runs if r.task_id is None}
    assert dag_runs == {("a", "run_05"), ("a", "run_04"), ("b", "only")}
    assert {(r.dag_id, r.run_id) for r in graph.runs if r.task_id} == dag_runs


def test_a_queued_run_counts_from_when_it_was_queued(postgres_project: DbtProject) -> None:
    # Airflow 3 queues a manual run without a logical date; Airflow 2 clears a run back to the queue without a start
    done = DagRun("a", "done", "success", start_us=epoch_us("2026-11-01T00:00:00Z"))
    queued = DagRun("a", "queued", "queued", queued_us=epoch_us("2026-11-02T00:00:00Z"))
    cleared = DagRun("b", "cleared", "queued", logical_us=epoch_us("2026-01-01T00:00:00Z"),
                     queued_us=epoch_us("2026-11-02T00:00:00Z"))  # fmt: skip
    older = DagRun("b", "older", "success", start_us=epoch_us("2026-11-01T00:00:00Z"))
    base: AirflowSnapshot = replace(snapshot(), dag_runs=(done, queued, cleared, older), task_instances=())

    graph = join_lineage([postgres_project], base, JoinSettings(max_runs_per_dag=1))

    assert {r.run_id for r in graph.runs if r.task_id is None} == {"queued", "cleared"}
