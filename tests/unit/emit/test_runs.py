"""Runs as DataProcessInstances: one per DAG run and per task instance (a mapped task's instances apart),
parents from keys, DataHub's run types, the task instance's try and duration."""

from __future__ import annotations

import pytest

from bridge.emit.airflow_urls import AirflowUrls
from bridge.emit.runs import instance_id, instance_urn, process_type, run_instance, run_mcps
from bridge.join.runs import build_runs
from bridge.model.airflow import DagRun, TaskInstance
from bridge.model.graph import Run, RunKey
from bridge.times import epoch_us

RUN_ID = "scheduled__2026-01-05T00:00:00+00:00"  # Airflow 2: every daily DAG's run of that day has this id
QUOTED = "scheduled__2026-01-05T00%3A00%3A00%2B00%3A00"


def _runs() -> list[Run]:
    dag_runs = [DagRun("a", RUN_ID, "success", "scheduled"), DagRun("b", RUN_ID, "running", "backfill")]
    instances = [
        TaskInstance(
            "a", "load", RUN_ID, "success", try_number=2, duration=1.5, start_us=epoch_us("2026-01-05T00:00:01")
        ),
        *(TaskInstance("a", "fan", RUN_ID, "success", try_number=1, map_index=i) for i in range(3)),
        TaskInstance("b", "load", RUN_ID, "running", try_number=1),
    ]
    return build_runs(dag_runs, instances, {}, "prod")


def test_every_dag_run_and_task_instance_is_its_own_instance() -> None:
    runs = _runs()
    urns = {str(instance_urn(run.key)) for run in runs}
    assert len(urns) == len(runs) == 7
    fan = [instance_id(run.key) for run in runs if run.task_id == "fan"]
    assert fan == [f"a_fan_{RUN_ID}_{i}" for i in range(3)]
    assert instance_id(RunKey("a", RUN_ID, "load")) == f"a_load_{RUN_ID}"  # the Airflow plugin's id, unmapped


def test_a_task_runs_parent_is_its_dag_runs_instance() -> None:
    urls = AirflowUrls("http://af", 3)
    runs = {(r.dag_id, r.task_id, r.map_index): r for r in _runs()}
    parent = run_instance(runs[("a", None, -1)], urls)
    for index in range(3):
        child = run_instance(runs[("a", "fan", index)], urls)
        assert child.parent_instance == parent.urn
    assert run_instance(runs[("b", "load", -1)], urls).parent_instance != parent.urn


@pytest.mark.parametrize(
    ("major", "url"),
    [
        (3, f"http://af/dags/a/runs/{QUOTED}/tasks/fan/mapped/1?try_number=1"),
        (2, f"http://af/dags/a/grid?dag_run_id={QUOTED}&task_id=fan&map_index=1&tab=logs"),
    ],
)
def test_a_mapped_instance_links_to_its_own_log(major: int, url: str) -> None:
    (run,) = [r for r in _runs() if r.task_id == "fan" and r.map_index == 1]
    assert run_instance(run, AirflowUrls("http://af", major)).url == url


@pytest.mark.parametrize(
    ("run_type", "run_id", "expected"),
    [
        ("scheduled", "x", "BATCH_SCHEDULED"),
        ("asset_triggered", "x", "BATCH_SCHEDULED"),
        ("dataset_triggered", "x", "BATCH_SCHEDULED"),
        ("manual", "scheduled__x", "BATCH_AD_HOC"),
        ("backfill", "backfill__x", "BATCH_AD_HOC"),
        ("asset_materialization", "x", "BATCH_AD_HOC"),
        (None, "scheduled__2026-01-05", "BATCH_SCHEDULED"),  # no run type read: the plugin's guess by run id
        (None, "manual__2026-01-05", "BATCH_AD_HOC"),
    ],
)
def test_airflow_run_types_map_to_datahubs(run_type: str | None, run_id: str, expected: str) -> None:
    run = Run(run_id, "d", None, "prod", "COMPLETE", "SUCCESS", None, None, run_type=run_type)
    assert process_type(run) == expected


def test_task_runs_take_their_dag_runs_type_and_keep_try_and_duration() -> None:
    runs = {(r.dag_id, r.task_id, r.map_index): r for r in _runs()}
    load = runs[("a", "load", -1)]
    assert load.run_type == "scheduled" and process_type(load) == "BATCH_SCHEDULED"
    assert load.attempt == 2 and load.properties == {"state": "success", "try_number": "2", "duration": "1.500"}
    backfill = run_instance(runs[("b", None, -1)], AirflowUrls(None, 3))
    assert backfill.type == "BATCH_AD_HOC" and backfill.properties["run_type"] == "backfill"


def test_a_dag_runs_instance_is_never_another_dags_task_run() -> None:
    # DAG `ingest_fred` and DAG `ingest`'s task `fred`, both run on the same interval (Airflow 2's shared run ids)
    dag_run = RunKey("ingest_fred", RUN_ID, None, cluster="prod")
    task_run = RunKey("ingest", RUN_ID, "fred", cluster="prod")
    assert instance_id(dag_run) == f"ingest_fred/{RUN_ID}"
    assert instance_urn(dag_run) != instance_urn(task_run)


def test_a_task_that_never_ran_ends_with_its_dag_run_and_shows_its_result() -> None:
    end = epoch_us("2026-01-05T00:10:00+00:00")
    dag_runs = [DagRun("a", RUN_ID, "failed", "scheduled", start_us=end - 600_000_000, end_us=end),
                DagRun("b", RUN_ID, "running", "scheduled", start_us=end)]  # fmt: skip
    instances = [TaskInstance("a", "report", RUN_ID, "upstream_failed"), TaskInstance("a", "tidy", RUN_ID, "skipped"),
                 TaskInstance("b", "report", RUN_ID, "upstream_failed")]  # fmt: skip
    runs = {(r.dag_id, r.task_id): r for r in build_runs(dag_runs, instances, {}, "prod")}

    for task_id, result in (("report", "FAILURE"), ("tidy", "SKIPPED")):
        run = runs[("a", task_id)]
        events = [
            m.aspect
            for m in run_mcps(run, run_instance(run, AirflowUrls(None, 3)))
            if m.aspectName == "dataProcessInstanceRunEvent"
        ]
        assert [(e.status, e.result.type, e.timestampMillis) for e in events] == [("COMPLETE", result, end // 1000)]
    assert runs[("b", "report")].end_ms is None  # its DAG run has not ended: no moment to give it yet
