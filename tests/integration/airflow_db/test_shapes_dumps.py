"""The shapes dumps (real Airflow 3.3.2 / 2.11.2 + Cosmos 1.15.1 over dags_shapes/, see the fixtures README,
"Shapes dumps"): the DB reader reads back every Cosmos task that `<dump>.expected.json` lists, with the
operator class and module and the selector template fields Cosmos serialized; the join matches each to exactly
what real `dbt ls` listed for its selection (derived when the dump was made, not by the bridge), or reports it
as building no table; and `check` on the dump exits 0 under the default `--fail-on`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.join.cosmos_tasks import match_cosmos_tasks
from bridge.model.airflow import AirflowSnapshot
from bridge.read.airflow_db.reader import read_airflow_db
from bridge.read.dbt.manifest import read_manifest
from tests.airflow_dumps import DUMPS, SHAPES_DUMPS, admin, restore_dump
from tests.cli import BUNDLED_MANIFEST, bridge

SELECTOR_FIELDS = ("select", "exclude", "selector", "models")


@pytest.fixture(scope="module", params=SHAPES_DUMPS)
def shapes(request: pytest.FixtureRequest, worker_id: str) -> Iterator[tuple[AirflowSnapshot, dict[str, Any]]]:
    name = request.param
    expected = json.loads((DUMPS / f"{name}.expected.json").read_text())
    dsn = restore_dump(name, worker_id)
    try:
        yield read_airflow_db(dsn), expected | {"dsn": dsn}
    finally:
        admin(f'DROP DATABASE IF EXISTS "{dsn.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_every_expected_task_is_read_with_its_operator_and_selector_fields(
    shapes: tuple[AirflowSnapshot, dict[str, Any]],
) -> None:
    snapshot, expected = shapes
    assert expected["tasks"]
    for entry in expected["tasks"]:
        where = f"{entry['dag_id']}.{entry['task_id']}"
        assert entry["dag_id"] in snapshot.dags, where
        task = snapshot.dags[entry["dag_id"]].tasks.get(entry["task_id"])
        assert task is not None, where
        assert (task.operator_module, task.operator_class) == (entry["operator_module"], entry["operator_class"]), where
        assert task.is_cosmos, where
        fields = {name: task.template_fields[name] for name in SELECTOR_FIELDS if name in task.template_fields}
        assert fields == entry["selector_args"], where


def test_the_expected_file_lists_every_cosmos_task_of_the_dump(shapes: tuple[AirflowSnapshot, dict[str, Any]]) -> None:
    snapshot, expected = shapes
    read = {(dag.dag_id, t.task_id) for dag in snapshot.dags.values() for t in dag.tasks.values() if t.is_cosmos}
    assert read == {(e["dag_id"], e["task_id"]) for e in expected["tasks"]}
    assert not [p for p in snapshot.problems if p.code == "bad-serialized-dag"]


def test_selected_tasks_have_nodes_and_the_others_a_reason(shapes: tuple[AirflowSnapshot, dict[str, Any]]) -> None:
    _, expected = shapes
    for entry in expected["tasks"]:
        if entry["selector_args"]:
            assert entry["nodes"] and entry["reason"] is None, entry["task_id"]
            assert all(n["unique_id"].startswith(f"{n['resource_type']}.") for n in entry["nodes"])
        else:
            assert entry["nodes"] is None and entry["reason"], entry["task_id"]


# The bundled manifest enables one singular test with the var `bridge_failing_test` (dbt_project/README.md, "A
# failing test"); the DAGs ran dbt, and dbt ls listed, without it.
VAR_ONLY = "test.finance.assert_index_months_have_full_trading_days"
# What each dbt command runs, as dbt's resource types (dbt ls lists a model's tests with it: eager selection).
RUNS = {"run": {"model"}, "seed": {"seed"}, "snapshot": {"snapshot"}, "source": {"source"}, "test": {"test"},
        "build": {"model", "seed", "snapshot", "test"}}  # fmt: skip


def test_every_cosmos_task_is_matched_to_what_dbt_ls_lists_for_it(
    shapes: tuple[AirflowSnapshot, dict[str, Any]],
) -> None:
    snapshot, expected = shapes
    matches = {(m.dag_id, m.task_id): m for m in match_cosmos_tasks(snapshot.dags, [read_manifest(BUNDLED_MANIFEST)])}
    roles: set[str] = set()
    for entry in expected["tasks"]:
        where = f"{entry['dag_id']}.{entry['task_id']} ({entry['operator_class']})"
        match = matches[(entry["dag_id"], entry["task_id"])]
        roles.add(match.role)
        if match.role == "operation":  # run-operation, ls, airflow_async's setup and teardown
            assert not match.matched and match.reason, where
            continue
        assert match.matched and match.evaluable, f"{where}: {match.reason}"
        if entry["nodes"] is None:  # no selection serialized: dbt's default selection, or the node its id names
            assert match.runs, where
            continue
        listed = {n["unique_id"] for n in entry["nodes"] if n["resource_type"] in RUNS[match.role]}
        assert set(match.runs) - {VAR_ONLY} == listed, where
    assert roles == {"run", "seed", "snapshot", "source", "test", "build", "operation"}


def test_the_async_run_task_without_a_selection_is_matched_by_its_id(
    shapes: tuple[AirflowSnapshot, dict[str, Any]],
) -> None:
    snapshot, expected = shapes
    nulls = [e for e in expected["tasks"] if e["nodes"] is None and e["operator_class"] == "DbtRunAirflowAsyncOperator"]
    matches = {(m.dag_id, m.task_id): m for m in match_cosmos_tasks(snapshot.dags, [read_manifest(BUNDLED_MANIFEST)])}
    for entry in nulls:
        match = matches[(entry["dag_id"], entry["task_id"])]
        name = entry["task_id"].rsplit(".", 1)[0].rsplit(".", 1)[-1]
        assert (match.method, match.node_id) == ("task-id", f"model.finance.{name}"), entry["task_id"]
    assert nulls or expected["release"] == "af33s"  # 3.3.2 cannot import Cosmos' airflow_async DAG


def test_check_on_the_dump_exits_0_with_no_error(shapes: tuple[AirflowSnapshot, dict[str, Any]], tmp_path: Any) -> None:
    _, expected = shapes
    report = tmp_path / "report.json"
    args = ("check", "--manifest", str(BUNDLED_MANIFEST), "--airflow-db", expected["dsn"], "--report", str(report))
    run = bridge(*args, cwd=tmp_path)
    problems = json.loads(report.read_text())["problems"]
    assert run.code == 0, run.stderr
    assert not [p for p in problems if p["severity"] == "error"]
    assert {p["code"] for p in problems if p["code"].startswith("cosmos")} == {"cosmos-task-builds-nothing"}
