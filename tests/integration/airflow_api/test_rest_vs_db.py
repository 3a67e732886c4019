"""The REST reader and the DB reader on the same recorded Airflow give the same DAGs, tasks and assets;
the differences are exactly the documented ones (docs/airflow-rest.md)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge.config import AirflowApiConfig
from bridge.model.airflow import AirflowSnapshot, AirflowTask
from bridge.read.airflow_api.reader import LIMITATIONS, V1_LIMITATION, read_airflow_api
from bridge.read.airflow_db.reader import read_airflow_db
from tests.fakes.airflow_api import FakeAirflow, serve

RELEASES = {"af211": 2, "af313": 3, "af33": 3}


def read_api(release: str, since: str | None = None) -> AirflowSnapshot:
    with serve(FakeAirflow(release)) as fake:
        return read_airflow_api(AirflowApiConfig(url=fake.url), since=since)


def structure(task: AirflowTask, major: int) -> AirflowTask:
    """A task without what REST cannot give (documented): task group, template values, and on Airflow 2
    the alias outlets and the inlets; alias outlets are not listed on Airflow 3 either."""
    outlets = tuple(ref for ref in task.outlets if ref.kind == "asset")
    inlets = () if major == 2 else task.inlets
    return replace(
        task,
        task_group_id=None,
        template_fields={},
        template_values_known=True,
        doc=None,
        outlets=outlets,
        inlets=inlets,
    )


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_same_dags_tasks_and_edges(release: str, restored: dict[str, str]) -> None:
    api, db = read_api(release), read_airflow_db(restored[release])
    major = RELEASES[release]
    assert api.airflow_version and api.airflow_version.startswith(f"{major}.")
    assert sorted(api.dags) == sorted(db.dags)
    for dag_id, from_db in db.dags.items():
        from_api = api.dags[dag_id]
        assert sorted(from_api.tasks) == sorted(from_db.tasks), dag_id
        for task_id, task in from_db.tasks.items():
            assert structure(from_api.tasks[task_id], major) == structure(task, major), (dag_id, task_id)
        for field in ("owners", "tags", "is_paused", "is_active", "schedule", "schedule_assets", "fileloc"):
            assert getattr(from_api, field) == getattr(from_db, field), (dag_id, field)
        expected_version = from_db.version_number if major == 3 else None
        assert from_api.version_number == expected_version


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_same_assets_with_the_same_producers_and_schedules(release: str, restored: dict[str, str]) -> None:
    api, db = read_api(release), read_airflow_db(restored[release])
    assert sorted(api.assets) == sorted(db.assets)
    for uri, asset in db.assets.items():
        listed = api.assets[uri]
        assert listed.producing_tasks == asset.producing_tasks, uri
        assert listed.scheduled_dags == asset.scheduled_dags, uri
        if RELEASES[release] == 3:
            assert listed.consuming_tasks == asset.consuming_tasks, uri


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_limitations_are_stated_in_the_snapshot(release: str) -> None:
    snapshot = read_api(release)
    expected = LIMITATIONS + ((V1_LIMITATION,) if RELEASES[release] == 2 else ())
    assert snapshot.limitations == expected
    assert snapshot.source == "api"


def test_cosmos_selector_comes_from_the_latest_rendered_fields() -> None:
    task = read_api("af33").dags["finance_marts_pipeline"].tasks["transform.stg_securities_model_build"]
    assert task.template_fields["select"] == "fqn:finance.staging.markets.stg_securities"
    assert "compiled_sql" not in task.template_fields  # truncated by Airflow: not a value


def test_run_history_since_a_time() -> None:
    everything, nothing = read_api("af33", since="2000-01-01T00:00:00Z"), read_api("af33", since="2100-01-01T00:00:00Z")
    assert len(everything.dag_runs) == 8 and len(everything.task_instances) == 75 and everything.asset_events
    assert nothing.dag_runs == () and nothing.task_instances == () and nothing.asset_events == ()
    assert read_api("af33").dag_runs == ()  # no run history asked for


def test_variables_and_connections_by_name_only() -> None:
    snapshot = read_api("af33")
    assert {v.key for v in snapshot.variables} and all(not hasattr(v, "value") for v in snapshot.variables)
    assert {c.conn_id for c in snapshot.connections} == {"snowflake_default", "bridge_postgres"}
