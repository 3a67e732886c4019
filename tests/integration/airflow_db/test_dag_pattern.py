"""`dag_pattern` (DataHub's AllowDenyPattern form) decides which DAGs a read fetches: the allowed ids are taken
from `dag` first and the heavy statements (serialized DAGs, runs, task instances) carry them, on PostgreSQL
(both schema families) and SQLite; what excluded DAGs declare or produced is left out of the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.model.pattern import NamePattern
from bridge.read.airflow_db.connect import open_db
from bridge.read.airflow_db.reader import read_snapshot
from tests.airflow_dumps import sqlite_dump

PATTERN = NamePattern(allow=("finance_", "INGEST_FRED"), deny=("finance_reporting",))
KEPT = {"finance_dbt", "finance_fred", "finance_marts_pipeline", "ingest_fred"}


@pytest.fixture(params=["af211", "af313", "af33", "af33_sqlite"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "af33_sqlite":
        return f"sqlite:///{sqlite_dump(tmp_path)}"
    restored: dict[str, str] = request.getfixturevalue("restored")
    return restored[request.param]


def test_only_the_allowed_dags_are_fetched(target: str) -> None:
    everything_db, scoped_db = open_db(target), open_db(target)
    try:
        everything = read_snapshot(everything_db)
        scoped = read_snapshot(scoped_db, dags_read=PATTERN)
    finally:
        everything_db.close(), scoped_db.close()

    assert set(scoped.dags) == KEPT & set(everything.dags) and len(scoped.dags) >= 3
    assert set(everything.dags) - set(scoped.dags) >= {"finance_reporting", "ingest_markets"}
    assert {r.dag_id for r in scoped.dag_runs} <= KEPT and {t.dag_id for t in scoped.task_instances} <= KEPT
    assert len(scoped.task_instances) < len(everything.task_instances)
    assert {r for r in everything.dag_runs if r.dag_id in KEPT} == set(scoped.dag_runs)
    for uri, asset in scoped.assets.items():
        assert {d for d, _ in asset.producing_tasks} <= KEPT and set(asset.scheduled_dags) <= KEPT, uri
    assert all(e.source_dag_id in KEPT for e in scoped.asset_events if e.source_dag_id)
    # one statement more (the ids from `dag`), whatever the number of DAGs; the ids travel as a parameter
    assert scoped_db.queries == everything_db.queries + 1
    heavy = [s for s in scoped_db.statements if "serialized_dag" in s or "task_instance" in s]
    assert heavy and all("ANY(%s)" in s or "json_each(%s)" in s for s in heavy)


def test_the_pattern_means_what_datahubs_allow_deny_pattern_means() -> None:
    from datahub.configuration.common import AllowDenyPattern

    cases = [((".*",), (), True), (("finance_",), ("finance_rep",), True), (("^Fin.*dbt$",), (), False),
             (("ingest_.*",), ("ingest_m",), True), (("x",), (), True)]  # fmt: skip
    names = ["finance_dbt", "finance_reporting", "FINANCE_DBT", "ingest_markets", "ingest_fred", "xfinance"]
    for allow, deny, ignore_case in cases:
        ours = NamePattern(allow, deny, ignore_case)
        theirs = AllowDenyPattern(allow=list(allow), deny=list(deny), ignoreCase=ignore_case)
        assert [ours.allowed(n) for n in names] == [theirs.allowed(n) for n in names], (allow, deny)
