"""Run history on the real dumps, counted from the dumps themselves: one process instance per DAG run and per
task instance (a mapped task's instances apart), every state mapped, each task run under its DAG run, and
log links as the Airflow version of the dump makes them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import psycopg2
import pytest

from bridge.config import build_config
from bridge.join.runs import status_of
from bridge.model.pattern import NamePattern
from bridge.read.airflow_db.reader import read_airflow_db
from bridge.sync import run_sync
from tests.airflow_dumps import EXTRAS_DUMPS, POSTGRES_DUMPS, admin, restore_dump
from tests.conftest import POSTGRES_ARTIFACTS

BASE = "http://airflow.example:8080"


def _rows(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


@pytest.fixture(params=[*POSTGRES_DUMPS, *EXTRAS_DUMPS])
def synced(request: pytest.FixtureRequest, restored: dict[str, str], tmp_path: Path) -> tuple[str, str, list[dict]]:
    return _sync(request.param, restored[request.param], tmp_path)


@pytest.fixture(params=EXTRAS_DUMPS)  # the dumps with a mapped task (dags_extras/extras_mapped.py)
def synced_mapped(
    request: pytest.FixtureRequest, restored: dict[str, str], tmp_path: Path
) -> tuple[str, str, list[dict]]:
    return _sync(request.param, restored[request.param], tmp_path)


def _sync(name: str, dsn: str, tmp_path: Path) -> tuple[str, str, list[dict]]:
    out = tmp_path / "mcps.json"
    config = build_config({
        "dbt": {"manifests": [str(POSTGRES_ARTIFACTS / "manifest.json")]},
        "airflow_db": {"url": dsn},
        "airflow_api": {"url": BASE, "read": False},
        "run_history": {"days": 3650, "max_runs_per_dag": 1000},
        "sink": {"type": "file", "path": str(out)},
    })  # fmt: skip
    result = run_sync(config, lambda: datetime(2026, 11, 28, tzinfo=timezone.utc))
    assert result.failure is None, result.failure
    return name, dsn, orjson.loads(out.read_bytes())


def _instances(records: list[dict]) -> dict[str, dict[str, Any]]:
    """Process instances by URN: their aspects by name (run events as a list)."""
    found: dict[str, dict[str, Any]] = {}
    for record in records:
        if record["entityType"] != "dataProcessInstance":
            continue
        aspects = found.setdefault(record["entityUrn"], {"events": []})
        if record["aspectName"] == "dataProcessInstanceRunEvent":
            aspects["events"].append(record["aspect"]["json"])
        else:
            aspects[record["aspectName"]] = record["aspect"]["json"]
    return found


def test_one_instance_per_dag_run_and_per_task_instance(synced: tuple[str, str, list[dict]]) -> None:
    _, dsn, records = synced
    instances = _instances(records)
    (dag_runs,) = _rows(dsn, "SELECT count(*) FROM dag_run")[0]
    (task_instances,) = _rows(dsn, "SELECT count(*) FROM task_instance")[0]
    templates = Counter(
        i["dataProcessInstanceRelationships"]["parentTemplate"].split(":")[2] for i in instances.values()
    )
    assert templates == {"dataFlow": dag_runs, "dataJob": task_instances}


def test_each_task_run_is_under_its_dag_run_and_each_state_is_mapped(synced: tuple[str, str, list[dict]]) -> None:
    _, dsn, records = synced
    instances = _instances(records)
    by_task = {
        (
            i["dataProcessInstanceProperties"]["customProperties"]["run_id"],
            i["dataProcessInstanceRelationships"]["parentTemplate"],
            int(i["dataProcessInstanceProperties"]["customProperties"].get("map_index", -1)),
        ): i
        for i in instances.values()
        if "dataJob" in i["dataProcessInstanceRelationships"]["parentTemplate"]
    }
    rows = _rows(dsn, "SELECT dag_id, task_id, run_id, map_index, state FROM task_instance")
    for dag_id, task_id, run_id, map_index, state in rows:
        job = f"urn:li:dataJob:(urn:li:dataFlow:(airflow,{dag_id},prod),{task_id})"
        instance = by_task[(run_id, job, map_index)]
        parent = instance["dataProcessInstanceRelationships"]["parentInstance"]
        assert instances[parent]["dataProcessInstanceRelationships"]["parentTemplate"].endswith(f",{dag_id},prod)")
        assert instances[parent]["dataProcessInstanceProperties"]["name"] == f"{dag_id}/{run_id}"
        status, result = status_of(state)
        ends = [e for e in instance["events"] if e["status"] == "COMPLETE"]
        assert [e["result"]["type"] for e in ends] == ([result] if status == "COMPLETE" else [])
    assert rows  # every dump has task instances


def test_log_links_follow_the_dumps_airflow_version(synced: tuple[str, str, list[dict]]) -> None:
    name, dsn, records = synced
    links = {
        i["dataProcessInstanceProperties"]["name"]: i["dataProcessInstanceProperties"].get("externalUrl")
        for i in _instances(records).values()
    }
    (row,) = _rows(dsn, "SELECT dag_id, task_id, run_id, try_number FROM task_instance ORDER BY 1, 2, 3 LIMIT 1")
    dag_id, task_id, run_id, try_number = row
    if name.startswith("af2"):
        expected = f"{BASE}/dags/{dag_id}/grid?dag_run_id={quote(run_id)}&task_id={task_id}&tab=logs"
    else:
        expected = f"{BASE}/dags/{dag_id}/runs/{quote(run_id)}/tasks/{task_id}?try_number={try_number}"
    assert links[f"{dag_id}_{task_id}_{run_id}"] == expected


def test_a_mapped_tasks_instances_are_distinct(synced_mapped: tuple[str, str, list[dict]]) -> None:
    _, dsn, records = synced_mapped
    mapped = _rows(dsn, "SELECT dag_id, task_id, run_id, map_index FROM task_instance WHERE map_index >= 0")
    assert len({m for *_, m in mapped}) >= 3
    names = {i["dataProcessInstanceProperties"]["name"] for i in _instances(records).values()}
    assert {f"{d}_{t}_{r}_{m}" for d, t, r, m in mapped} <= names


def test_backfills_and_manual_runs_are_ad_hoc_with_their_airflow_run_type(
    synced_mapped: tuple[str, str, list[dict]],
) -> None:
    _, dsn, records = synced_mapped
    types = {
        p["name"]: (p["type"], p["customProperties"].get("run_type"))
        for i in _instances(records).values()
        if "dataFlow" in i["dataProcessInstanceRelationships"]["parentTemplate"]
        and (p := i["dataProcessInstanceProperties"])
    }
    rows = _rows(dsn, "SELECT dag_id, run_id, run_type FROM dag_run")
    assert {t for _, _, t in rows} >= {"manual", "backfill"}
    for dag_id, run_id, run_type in rows:
        assert types[f"{dag_id}/{run_id}"] == ("BATCH_AD_HOC", run_type)


@pytest.mark.parametrize(("name", "gone"), [("af211", "is_active = false"), ("af33", "is_stale = true")])
def test_runs_of_a_dag_airflow_no_longer_has_are_not_read(name: str, gone: str, worker_id: str) -> None:
    # A DAG whose file was removed keeps its runs in the DB; the sync emits no flow for it, so no runs either
    url = restore_dump(name, worker_id, suffix="_gone")
    try:
        _rows(url, f"UPDATE dag SET {gone} WHERE dag_id = 'finance_fred' RETURNING dag_id")
        assert _rows(url, "SELECT count(*) FROM dag_run WHERE dag_id = 'finance_fred'")[0][0] > 0
        for dags in (None, NamePattern(deny=("^no_such_dag$",))):  # with and without a pattern: the same
            snapshot = read_airflow_db(url, dags=dags)
            assert "finance_fred" not in snapshot.dags and snapshot.dags
            assert snapshot.dag_runs and not [r for r in snapshot.dag_runs if r.dag_id == "finance_fred"]
            assert not [ti for ti in snapshot.task_instances if ti.dag_id == "finance_fred"]
    finally:
        admin(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
