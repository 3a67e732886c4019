"""What the original connector extracted beyond lineage, on the extras dumps (real Airflow 2.11.2 and 3.3.2
running dags_extras/): a run's conf with its secrets masked, the connections (type, host) and Variables a
task uses, the SLA of Airflow 2 tasks and the deadline of an Airflow 3 DAG, and the import error, named."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bridge.config import build_config
from bridge.model.graph import LineageGraph
from bridge.sync import run_sync
from tests.conftest import POSTGRES_ARTIFACTS

FIXTURE_SECRETS = ("tok-fixture-123", "pw-fixture-456", "sk-789", "k-999")


@pytest.fixture(params=["af211x", "af33x"])
def synced(request: pytest.FixtureRequest, restored: dict[str, str], tmp_path: Path) -> tuple[str, LineageGraph, str]:
    out = tmp_path / "mcps.json"
    config = build_config({
        "dbt": {"manifests": [str(POSTGRES_ARTIFACTS / "manifest.json")]},
        "airflow_db": {"url": restored[request.param]},
        "run_history": {"days": 3650},
        "sink": {"type": "file", "path": str(out)},
    })  # fmt: skip
    result = run_sync(config, lambda: datetime(2026, 11, 28, tzinfo=timezone.utc))
    assert result.failure is None and result.graph is not None
    return request.param, result.graph, out.read_text()


def job_properties(graph: LineageGraph, dag_id: str, task_id: str) -> dict[str, str]:
    return dict(next(j for j in graph.jobs if (j.key.dag_id, j.key.task_id) == (dag_id, task_id)).properties)


def test_a_runs_conf_is_a_property_with_its_secrets_masked(synced: tuple[str, LineageGraph, str]) -> None:
    _, graph, emitted = synced
    [run] = [r for r in graph.runs if r.dag_id == "extras_conf" and r.task_id is None]
    assert run.properties["conf"] == (
        '{"api_token": "***", "db_password": "***", "nested": {"n": 3, "secret_key": "***"}, "window": "2026-11-01"}'
    )
    assert not [s for s in FIXTURE_SECRETS if s in emitted]
    assert all("conf" not in r.properties for r in graph.runs if r.dag_id != "extras_conf")  # {} says nothing


def test_tasks_carry_the_connections_and_variables_they_use(synced: tuple[str, LineageGraph, str]) -> None:
    _, graph, _ = synced
    warehouse = "warehouse_pg (postgres, db.internal.example)"
    assert job_properties(graph, "extras_connections", "warehouse_query")["connections"] == warehouse
    assert job_properties(graph, "extras_connections", "warehouse_check")["connections"] == warehouse
    assert job_properties(graph, "extras_connections", "partner_ping")["connections"] == (
        "partner_api (http, api.partner.example)"
    )
    assert job_properties(graph, "extras_connections", "report_threshold")["variables"] == "reporting_threshold"


def test_slas_and_deadlines_are_properties(synced: tuple[str, LineageGraph, str]) -> None:
    release, graph, _ = synced
    if release == "af211x":
        assert job_properties(graph, "extras_sla", "load")["sla"] == "0:30:00"
        assert job_properties(graph, "extras_sla", "publish")["sla"] == "2:00:00"  # default_args
    else:
        flow = next(f for f in graph.flows if f.dag_id == "extras_deadline")
        assert flow.properties["deadline"] == "extras_load_late: 0:30:00 after DagRunLogicalDateDeadline"
        assert all("deadline" not in f.properties for f in graph.flows if f.dag_id != "extras_deadline")


def test_the_import_error_is_reported_naming_the_file(synced: tuple[str, LineageGraph, str]) -> None:
    _, graph, _ = synced
    [problem] = [p for p in graph.problems if p.code == "dag-import-error"]
    assert problem.location.endswith("extras_broken.py") and "not_a_module_anywhere" in problem.message
