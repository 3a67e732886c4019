"""The REST reader and the DB reader on the same recorded Airflow give the same DAGs, tasks and assets;
the differences are exactly the documented ones (docs/airflow-rest.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import psycopg2
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


WINDOWS = [None, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z"]


def template_values(snapshot: AirflowSnapshot) -> dict[tuple[str, str], tuple[bool, object, object]]:
    """Per task: whether its template values are known, and Cosmos' selection (`select`, `models`)."""
    return {
        (dag_id, task_id): (
            task.template_values_known,
            task.template_fields.get("select"),
            task.template_fields.get("models"),
        )
        for dag_id, dag in snapshot.dags.items()
        for task_id, task in dag.tasks.items()
    }


@pytest.mark.parametrize("since", WINDOWS, ids=["no-history", "every-run", "after-the-last-run"])
@pytest.mark.parametrize("release", sorted(RELEASES))
def test_template_values_do_not_depend_on_the_run_history_window(
    release: str, since: str | None, restored: dict[str, str]
) -> None:
    """The DB always knows a Cosmos task's selection; REST knows it from the latest task instance that rendered
    it, however old, so the lineage does not change with the window of a sync."""
    with serve(FakeAirflow(release)) as fake:
        api = read_airflow_api(AirflowApiConfig(url=fake.url), since=since)
    assert template_values(api) == template_values(read_airflow_db(restored[release], since=since))
    assert not [path for _, path, _ in fake.requests if "/taskInstances" in path and not path.endswith("/list")]


def test_a_latest_run_that_failed_before_rendering_leaves_the_values_of_the_run_before(
    restored: dict[str, str],
) -> None:
    """The latest run of a DAG failed upstream of its Cosmos tasks (nothing rendered): a run before it did."""
    fake, dag_id = FakeAirflow("af33"), "finance_marts_pipeline"
    runs_path, instances_path = "/api/v2/dags/~/dagRuns/list", "/api/v2/dags/~/dagRuns/~/taskInstances/list"
    runs = fake.routes[("POST", runs_path)]["dag_runs"]
    instances = fake.routes[("POST", instances_path)]["task_instances"]
    run = max((r for r in runs if r["dag_id"] == dag_id), key=lambda r: r["start_date"])
    later = {"dag_run_id": "manual__later", "start_date": "2027-01-01T00:00:00Z", "run_after": "2027-01-01T00:00:00Z"}
    failed = {**run, **later, "state": "failed"}
    not_rendered = [
        {**ti, "dag_run_id": "manual__later", "state": "upstream_failed", "start_date": None, "rendered_fields": {}}
        for ti in instances
        if (ti["dag_id"], ti["dag_run_id"]) == (dag_id, run["dag_run_id"])
    ]
    fake.set_listing(runs_path, "dag_runs", [*runs, failed], method="POST")
    fake.set_listing(instances_path, "task_instances", instances + not_rendered, method="POST")
    db = template_values(read_airflow_db(restored["af33"]))
    for since in (None, "2026-12-01T00:00:00Z"):  # no history; a window holding only the failed run
        with serve(fake):
            api = read_airflow_api(AirflowApiConfig(url=fake.url), since=since)
        assert template_values(api) == db, since


def test_the_newest_rendered_values_are_kept_over_those_older_runs_give() -> None:
    """The window's run rendered one Cosmos task's selection anew and nothing else (the others upstream_failed):
    that value stays; the others come from the run before."""
    fake, dag_id = FakeAirflow("af33"), "finance_marts_pipeline"
    runs_path, instances_path = "/api/v2/dags/~/dagRuns/list", "/api/v2/dags/~/dagRuns/~/taskInstances/list"
    runs = fake.routes[("POST", runs_path)]["dag_runs"]
    instances = fake.routes[("POST", instances_path)]["task_instances"]
    run = max((r for r in runs if r["dag_id"] == dag_id), key=lambda r: r["start_date"])
    mine = [ti for ti in instances if (ti["dag_id"], ti["dag_run_id"]) == (dag_id, run["dag_run_id"])]
    selecting = sorted(ti["task_id"] for ti in mine if "select" in (ti.get("rendered_fields") or {}))
    when = {"start_date": "2027-01-01T00:00:00Z", "run_after": "2027-01-01T00:00:00Z"}
    later = {**run, **when, "dag_run_id": "manual__later", "id": max(r.get("id", 0) for r in runs) + 1}
    failed = {"state": "upstream_failed", "start_date": None, "rendered_fields": {}}
    newer = [
        {**ti, **when, "dag_run_id": "manual__later", "rendered_fields": {**ti["rendered_fields"], "select": "fqn:new"}}
        if ti["task_id"] == selecting[0]
        else {**ti, **when, "dag_run_id": "manual__later", **failed}
        for ti in mine
    ]
    fake.set_listing(runs_path, "dag_runs", [*runs, later], method="POST")
    fake.set_listing(instances_path, "task_instances", instances + newer, method="POST")
    with serve(fake):
        api = read_airflow_api(AirflowApiConfig(url=fake.url), since="2026-12-01T00:00:00Z")
    tasks = api.dags[dag_id].tasks
    assert tasks[selecting[0]].template_fields["select"] == "fqn:new"
    assert all(tasks[t].template_fields["select"].startswith("fqn:finance.") for t in selecting[1:])


V1_SCHEDULES = {  # what Airflow 2's API lists -> what its `dag.schedule_interval` column holds
    "timedelta": (
        {"__type": "TimeDelta", "days": 0, "seconds": 3600, "microseconds": 0},
        '{"type": "timedelta", "attrs": {"days": 0, "seconds": 3600, "microseconds": 0}}',
    ),
    "relativedelta": (
        {"__type": "RelativeDelta", "years": 0, "months": 1, "days": 0, "leapdays": 0, "hours": 0, "minutes": 0}
        | {"seconds": 0, "microseconds": 0, "year": None, "month": None, "day": 1, "hour": None, "minute": None}
        | {"second": None, "microsecond": None},
        '{"type": "relativedelta", "attrs": {"years": 0, "months": 1, "days": 0, "leapdays": 0, "hours": 0, '
        '"minutes": 0, "seconds": 0, "microseconds": 0, "year": null, "month": null, "day": 1, "hour": null, '
        '"minute": null, "second": null, "microsecond": null}}',
    ),
    "cron": ({"__type": "CronExpression", "value": "15 6 * * 1-5"}, '"15 6 * * 1-5"'),
}


@pytest.mark.parametrize("form", sorted(V1_SCHEDULES))
def test_airflow_2_schedules_read_the_same_both_ways(form: str, restored: dict[str, str]) -> None:
    listed, stored = V1_SCHEDULES[form]
    fake = FakeAirflow("af211")
    summaries = fake.routes[("GET", "/api/v1/dags")]["dags"]
    fake.set_listing(
        "/api/v1/dags",
        "dags",
        [{**d, "schedule_interval": listed} if d["dag_id"] == "ingest_fred" else d for d in summaries],
    )
    fake.routes[("GET", "/api/v1/dags/ingest_fred/details")]["schedule_interval"] = listed
    with serve(fake):
        api = read_airflow_api(AirflowApiConfig(url=fake.url))
    with dag_column(restored["af211"], "ingest_fred", "schedule_interval", stored):
        db = read_airflow_db(restored["af211"])
    assert api.dags["ingest_fred"].schedule == db.dags["ingest_fred"].schedule
    assert api.dags["ingest_fred"].schedule is not None


@contextmanager
def dag_column(dsn: str, dag_id: str, column: str, value: str) -> Iterator[None]:
    """A column of one row of the restored DB's `dag` table set to `value` for a while, then set back."""
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM dag WHERE dag_id = %s", (dag_id,))
            [before] = cursor.fetchone()
            cursor.execute(f"UPDATE dag SET {column} = %s WHERE dag_id = %s", (value, dag_id))
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE dag SET {column} = %s WHERE dag_id = %s", (before, dag_id))
    finally:
        connection.close()
