"""The reader against the real dumps; every expectation is taken from the dump with independent SQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from bridge.model.airflow import AirflowSnapshot
from bridge.read.airflow_db.reader import read_airflow_db
from tests.airflow_dumps import POSTGRES_DUMPS, sqlite_dump

LATEST_3 = """
    SELECT s.dag_id, s.data, v.version_number FROM serialized_dag s JOIN dag_version v ON v.id = s.dag_version_id
    WHERE (s.dag_id, v.version_number) IN (SELECT dag_id, max(version_number) FROM dag_version GROUP BY dag_id)"""
LATEST_2 = "SELECT dag_id, data, NULL FROM serialized_dag"


def fetch(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    connection = psycopg2.connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())
    finally:
        connection.close()


def serialized_tasks(dsn: str) -> dict[str, tuple[list[dict[str, Any]], int | None]]:
    """dag_id -> (its latest serialized tasks, version) read with plain SQL and the standard json module."""
    is_v3 = bool(fetch(dsn, "SELECT 1 FROM information_schema.tables WHERE table_name = 'dag_version'"))
    found = {}
    for dag_id, data, version in fetch(dsn, LATEST_3 if is_v3 else LATEST_2):
        document = data if isinstance(data, dict) else json.loads(data)
        tasks = [t.get("__var", t) for t in document["dag"]["tasks"]]
        found[dag_id] = (tasks, version)
    return found


@pytest.fixture(scope="module", params=POSTGRES_DUMPS)
def dump(request: pytest.FixtureRequest, restored: dict[str, str]) -> tuple[str, AirflowSnapshot]:
    dsn = restored[request.param]
    return dsn, read_airflow_db(dsn)


def test_tasks_dependencies_and_versions_equal_the_dump(dump: tuple[str, AirflowSnapshot]) -> None:
    dsn, snapshot = dump
    expected = serialized_tasks(dsn)
    active = {r[0] for r in fetch(dsn, "SELECT dag_id FROM dag")}
    assert set(snapshot.dags) == set(expected) & active
    for dag_id, (tasks, version) in expected.items():
        dag = snapshot.dags[dag_id]
        assert len(dag.tasks) == len(tasks), dag_id
        assert dag.version_number == version
        for raw in tasks:
            task = dag.tasks[raw["task_id"]]
            assert set(task.downstream_task_ids) == set(raw.get("downstream_task_ids") or [])
            for upstream_id in task.upstream_task_ids:
                assert raw["task_id"] in dag.tasks[upstream_id].downstream_task_ids
            for field in ("select", "models"):
                if field in raw:
                    assert task.template_fields[field] == raw[field], (dag_id, raw["task_id"])


def test_the_dag_with_two_versions_is_read_at_its_latest(dump: tuple[str, AirflowSnapshot]) -> None:
    _, snapshot = dump
    reporting = snapshot.dags["finance_reporting"]
    assert "notify_desk" in reporting.tasks  # only the second version has it
    if reporting.version_number is not None:
        assert reporting.version_number == 2


def test_outlets_schedules_and_events_equal_the_dump(dump: tuple[str, AirflowSnapshot]) -> None:
    dsn, snapshot = dump
    prefix = "asset" if snapshot.airflow_version and snapshot.airflow_version.startswith("3") else "dataset"
    join = f"JOIN {prefix} a ON a.id = r.{prefix}_id"
    outlets = fetch(dsn, f"SELECT a.uri, r.dag_id, r.task_id FROM task_outlet_{prefix}_reference r {join}")
    read_outlets = {(uri, d, t) for uri, a in snapshot.assets.items() for d, t in a.producing_tasks}
    assert read_outlets == set(outlets) and outlets
    events = fetch(dsn, f"SELECT source_dag_id, source_task_id, count(*) FROM {prefix}_event GROUP BY 1, 2")
    read_events: dict[tuple[str | None, str | None], int] = {}
    for event in snapshot.asset_events:
        key = (event.source_dag_id, event.source_task_id)
        read_events[key] = read_events.get(key, 0) + 1
    assert read_events == {(d, t): n for d, t, n in events}
    schedules = fetch(
        dsn, f"SELECT r.dag_id, a.uri FROM dag_schedule_{prefix}_reference r JOIN {prefix} a ON a.id = r.{prefix}_id"
    )
    assert {(d.dag_id, a.uri) for d in snapshot.dags.values() for a in d.schedule_assets} == set(schedules)


def test_runs_import_errors_and_inventories(dump: tuple[str, AirflowSnapshot]) -> None:
    dsn, snapshot = dump
    assert len(snapshot.dag_runs) == fetch(dsn, "SELECT count(*) FROM dag_run")[0][0]
    assert len(snapshot.task_instances) == fetch(dsn, "SELECT count(*) FROM task_instance")[0][0]
    failed = {(r[0], r[1]) for r in fetch(dsn, "SELECT dag_id, task_id FROM task_instance WHERE state = 'failed'")}
    assert failed and failed == {(ti.dag_id, ti.task_id) for ti in snapshot.task_instances if ti.state == "failed"}
    assert [e.filename for e in snapshot.import_errors] == [
        r[0] for r in fetch(dsn, "SELECT filename FROM import_error")
    ]
    assert {c.conn_id for c in snapshot.connections} == {r[0] for r in fetch(dsn, "SELECT conn_id FROM connection")}
    assert "dummy-password" not in repr(snapshot)
    paused = {r[0] for r in fetch(dsn, "SELECT dag_id FROM dag WHERE is_paused")}
    assert paused == {d for d, dag in snapshot.dags.items() if dag.is_paused} == {"finance_fred"}


def test_sqlite_dump_reads_like_its_postgresql_twin(tmp_path: Path, restored: dict[str, str]) -> None:
    from_sqlite = read_airflow_db(f"sqlite:///{sqlite_dump(tmp_path)}")
    from_postgres = read_airflow_db(restored["af33"])
    assert from_sqlite.airflow_version == from_postgres.airflow_version == "3.3.0"
    assert {d: sorted(x.tasks) for d, x in from_sqlite.dags.items()} == {
        d: sorted(x.tasks) for d, x in from_postgres.dags.items()
    }
    assert {d: x.version_number for d, x in from_sqlite.dags.items()}["finance_reporting"] == 2
    assert len(from_sqlite.asset_events) == len(from_postgres.asset_events) > 0
