"""On every real Airflow dump, each Cosmos task that runs a model, seed or snapshot writes exactly its node's
warehouse table. The expectation comes from the raw manifest and the serialized selector, read here with
the standard library: none of the bridge's join code is used to derive it."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from bridge.config import build_config
from bridge.sync import run_sync
from tests.conftest import POSTGRES_ARTIFACTS

WRITING_OPERATORS = ("DbtRunLocalOperator", "DbtSeedLocalOperator", "DbtSnapshotLocalOperator", "DbtBuildLocalOperator")
LATEST = {
    3: """SELECT s.dag_id, s.data FROM serialized_dag s JOIN dag_version v ON v.id = s.dag_version_id
          WHERE (s.dag_id, v.version_number) IN
                (SELECT dag_id, max(version_number) FROM dag_version GROUP BY dag_id)""",
    2: "SELECT dag_id, data FROM serialized_dag",
}


def clock() -> datetime:
    return datetime(2026, 1, 31, tzinfo=timezone.utc)


def manifest_nodes() -> dict[str, dict[str, Any]]:
    raw = json.loads((POSTGRES_ARTIFACTS / "manifest.json").read_text())
    return {uid: n for uid, n in raw["nodes"].items() if n["resource_type"] in ("model", "seed", "snapshot")}


def node_for_selector(selector: str, nodes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if selector.startswith("fqn:"):
        [node] = [n for n in nodes.values() if ".".join(n["fqn"]) == selector[4:]]
        return node
    name, _, version = selector.partition(".v")
    [node] = [n for n in nodes.values() if n["name"] == name and str(n.get("version") or "") == version]
    return node


def expected_output(node: dict[str, Any]) -> list[str]:
    if node["config"]["materialized"] == "ephemeral":
        return []
    name = node["relation_name"].replace('"', "").lower()
    return [f"urn:li:dataset:(urn:li:dataPlatform:postgres,{name},PROD)"]


def cosmos_writers(dsn: str) -> list[tuple[str, dict[str, Any]]]:
    connection = psycopg2.connect(dsn)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'dag_version'")
        cursor.execute(LATEST[3 if cursor.fetchone()[0] else 2])  # type: ignore[index]
        rows = cursor.fetchall()
    connection.close()
    tasks = []
    for dag_id, data in rows:
        for task in (data if isinstance(data, dict) else json.loads(data))["dag"]["tasks"]:
            body = task.get("__var", task)
            operator = body.get("task_type") or body.get("_task_type")
            if body.get("_task_module", "").startswith("cosmos.") and operator in WRITING_OPERATORS:
                tasks.append((dag_id, body))
    return tasks


@pytest.mark.parametrize("dump", ["af211", "af313", "af33"])
def test_every_cosmos_writer_outputs_exactly_its_relation(dump: str, restored: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "mcps.json"
    config = build_config(
        {
            "dbt": {"manifests": [str(POSTGRES_ARTIFACTS / "manifest.json")]},
            "airflow_db": {"url": restored[dump]},
            "sink": {"type": "file", "path": str(out)},
            "run_history": {"enabled": False},
        }
    )
    result = run_sync(config, clock)
    outputs = {
        m["entityUrn"]: m["aspect"]["json"]["outputDatasets"]
        for m in json.loads(out.read_text())
        if m["aspectName"] == "dataJobInputOutput"
    }
    nodes = manifest_nodes()
    writers = cosmos_writers(restored[dump])
    assert len(writers) > 30
    for dag_id, task in writers:
        selector = task.get("select") or task.get("models")
        expected = expected_output(node_for_selector(selector, nodes))
        urn = f"urn:li:dataJob:(urn:li:dataFlow:(airflow,{dag_id},prod),{task['task_id']})"
        assert outputs[urn] == expected, (dag_id, task["task_id"], selector)
    assert result.report.counts["cosmos_tasks_unmatched"] == 0
    unmatched = [p for p in result.report.problems if p.code == "unmatched-cosmos-task"]
    assert unmatched == []


def test_unmatched_cosmos_tasks_are_reported_with_a_reason(restored: dict[str, str], tmp_path: Path) -> None:
    """With a manifest that lacks the DAGs' models, every Cosmos task is listed with why it did not match."""
    other = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "dbt" / "jaffle-shop" / "manifest.parse.json"
    config = build_config(
        {
            "dbt": {"manifests": [str(other)]},
            "airflow_db": {"url": restored["af33"]},
            "sink": {"type": "file", "path": str(tmp_path / "mcps.json")},
            "run_history": {"enabled": False},
        }
    )
    result = run_sync(config, clock)
    counts = result.report.counts
    unmatched = [p for p in result.report.problems if p.code == "unmatched-cosmos-task"]
    assert counts["cosmos_tasks_unmatched"] == len(unmatched) > 40
    assert all(" selects no " in p.message and p.message.endswith(" of jaffle_shop") for p in unmatched)
    assert result.report.failing(frozenset({"error"}))
