"""`bridge sync` through the REST API: the same Cosmos lineage as through the DB; both combined."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bridge.config import AirflowApiConfig, build_config
from bridge.model.graph import LineageGraph
from bridge.read.airflow_api.reader import read_airflow_api
from bridge.read.combine import combine_snapshots
from bridge.sync import run_sync
from tests.conftest import REPO
from tests.fakes.airflow_api import FakeAirflow, serve

MANIFEST = str(REPO / "dbt_project/artifacts/postgres/manifest.json")
CLOCK = datetime(2026, 12, 1, tzinfo=timezone.utc)


def sync(settings: dict[str, Any], tmp_path: Path) -> LineageGraph:
    config = build_config({"dbt": {"manifests": [MANIFEST]}, "run_history": {"days": 400}, **settings}, "test")
    return run_sync(config, lambda: CLOCK, emit=False).graph


def cosmos_io(graph: LineageGraph) -> dict[tuple[str, str], tuple[Any, Any, str | None]]:
    return {
        (j.key.dag_id, j.key.task_id): (j.inputs, j.outputs, j.dbt_unique_id)
        for j in graph.jobs
        if j.cosmos is not None
    }


@pytest.mark.parametrize("release", ["af211", "af313", "af33"])
def test_rest_sync_gives_the_cosmos_lineage_of_the_db_sync(
    release: str, restored: dict[str, str], tmp_path: Path
) -> None:
    from_db = sync({"airflow_db": {"url": restored[release]}}, tmp_path)
    with serve(FakeAirflow(release)) as fake:
        from_api = sync({"airflow_api": {"url": fake.url}}, tmp_path)
    api_io, db_io = cosmos_io(from_api), cosmos_io(from_db)
    # Airflow 3.1.3's GET listings answer `rendered_fields: {}`; its batch listing (what the reader asks) has
    # them, so even Cosmos' AFTER_ALL test task (its id names no node, `select` does) is matched on every release.
    assert {k for k in db_io if api_io.get(k) != db_io[k]} == set()
    assert len(db_io) > 40
    assert {f.dag_id for f in from_api.flows} == {f.dag_id for f in from_db.flows}
    limits = [p for p in from_api.problems if p.code == "source-limitation"]
    assert limits and all(p.severity == "info" for p in limits)


def test_with_both_the_db_wins_and_the_api_fills_a_dag_the_db_could_not_read(restored: dict[str, str]) -> None:
    from bridge.read.airflow_db.reader import read_airflow_db

    db = read_airflow_db(restored["af33"])
    broken = replace(db, dags={k: v for k, v in db.dags.items() if k != "finance_fred"})
    with serve(FakeAirflow("af33")) as fake:
        api = read_airflow_api(AirflowApiConfig(url=fake.url))
    combined = combine_snapshots(broken, api)
    assert combined.source == "db+api" and combined.airflow_version == "3.3.2"
    assert sorted(combined.dags) == sorted(db.dags)
    assert combined.dags["finance_dbt"] is db.dags["finance_dbt"]  # structure from the DB
    assert combined.dags["finance_fred"] is api.dags["finance_fred"]
    assert all("finance_fred" in text for text in combined.limitations) and combined.limitations
    assert combine_snapshots(db, api).limitations == ()


def test_api_read_switch(restored: dict[str, str], tmp_path: Path) -> None:
    with serve(FakeAirflow("af33")) as fake:
        links_only = sync({"airflow_db": {"url": restored["af33"]}, "airflow_api": {"url": fake.url}}, tmp_path)
        assert not any("/api/" in path for _, path, _ in fake.requests)
        both = sync({"airflow_db": {"url": restored["af33"]}, "airflow_api": {"url": fake.url, "read": True}}, tmp_path)
        assert any("/api/v2/dags" in path for _, path, _ in fake.requests)
    assert cosmos_io(both) == cosmos_io(links_only)


@pytest.mark.parametrize("release", ["af211", "af33"])
def test_the_dag_pattern_drops_dags_from_the_listing_before_their_details_are_fetched(release: str) -> None:
    from bridge.model.pattern import NamePattern

    pattern = NamePattern(allow=("finance_",), deny=("finance_reporting",))
    with serve(FakeAirflow(release)) as fake:
        snapshot = read_airflow_api(AirflowApiConfig(url=fake.url), since="2000-01-01T00:00:00Z", dags_read=pattern)
    assert set(snapshot.dags) == {"finance_dbt", "finance_fred", "finance_marts_pipeline"}
    assert {r.dag_id for r in snapshot.dag_runs} <= set(snapshot.dags)
    fetched = {path for _, path, _ in fake.requests}
    assert not [p for p in fetched if "/dags/ingest_" in p or "/dags/finance_reporting" in p]
    assert [p for p in fetched if "/dags/finance_dbt" in p]
