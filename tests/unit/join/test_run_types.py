"""A run's type is one of Airflow's (typed); another value read stays a property and the type is unknown."""

from __future__ import annotations

from bridge.join.runs import build_runs
from bridge.model.airflow import DagRun, TaskInstance
from bridge.model.graph import RUN_TYPES


def test_a_known_type_is_typed_on_the_dag_run_and_its_task_runs() -> None:
    runs = build_runs([DagRun("d", "r1", "success", "asset_triggered")],
                      [TaskInstance("d", "t", "r1", "success")], {}, "prod")  # fmt: skip
    assert [run.run_type for run in runs] == ["asset_triggered", "asset_triggered"]


def test_a_type_airflow_may_add_later_stays_a_property_and_is_not_guessed() -> None:
    [run] = build_runs([DagRun("d", "r1", "success", "continuous")], [], {}, "prod")
    assert run.run_type is None and run.properties["run_type"] == "continuous"
    assert "continuous" not in RUN_TYPES and {"scheduled", "manual", "backfill"} <= RUN_TYPES
