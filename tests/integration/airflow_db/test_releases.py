"""One real dump per supported Airflow release, read by the DB reader and compared with FACTS.md.

Each dump of `RELEASE_DUMPS` (and the SQLite twin of af33) is restored on its own and read once; the
expectations are the fact tables `facts.py` wrote into FACTS.md for that dump (the SQL that derives them is
printed there), so a release whose schema the reader gets wrong shows here as a difference with plain SQL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.model.airflow import AirflowSnapshot
from bridge.read.airflow_db.reader import read_airflow_db
from bridge.read.airflow_db.schema_version import SUPPORTED_HEADS
from tests.airflow_dumps import DUMPS, RELEASE_DUMPS, admin, restore_dump, sqlite_dump
from tests.integration.airflow_db.test_reader_facts import serialized_tasks

FACTS_MD = DUMPS.parent / "FACTS.md"
SQLITE = "af33_sqlite"
# The release line of each dump, as the reader names it: the first release with the dump's schema
# (2.11 added no migration after 2.10.3, so an Airflow 2.11 database reads as the 2.10 schema).
RELEASE_LINE = {
    "af210": "2.10",
    "af211": "2.10",
    "af30": "3.0",
    "af313": "3.1",
    "af32": "3.2",
    "af33": "3.3",
    SQLITE: "3.3",
}


def _cells(line: str) -> list[str]:
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def facts_md(dump_file: str) -> dict[str, list[dict[str, str]]]:
    """Fact title -> the rows of its table in FACTS.md's section of `dumps/<dump_file>`."""
    text = FACTS_MD.read_text()
    marker = f"\n## `dumps/{dump_file}`\n"
    assert marker in text, f"FACTS.md has no section for {dump_file}: run tests/fixtures/airflow/facts.py"
    section = re.split(r"\n#{1,2} ", text.split(marker, 1)[1], maxsplit=1)[0]
    facts = {}
    for block in re.split(r"\n#### \d+\. ", section)[1:]:
        title, _, body = block.partition("\n")
        lines = [line for line in body.splitlines() if line.startswith("|")]
        header = _cells(lines[0]) if lines else []
        facts[title] = [dict(zip(header, _cells(line), strict=True)) for line in lines[2:]]
    return facts


def fact(facts: dict[str, list[dict[str, str]]], title_start: str) -> list[dict[str, str]]:
    [title] = [title for title in facts if title.startswith(title_start)]
    return facts[title]


def truth(value: str) -> bool:
    return {"t": True, "f": False, "1": True, "0": False}[value]


@pytest.fixture(scope="module", params=[*RELEASE_DUMPS, SQLITE])
def release(
    request: pytest.FixtureRequest, worker_id: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str | None, AirflowSnapshot, dict[str, list[dict[str, str]]]]]:
    """(dump name, PostgreSQL DSN or None for SQLite, what the reader returns, the dump's facts in FACTS.md)."""
    name = request.param
    if name == SQLITE:
        path = sqlite_dump(tmp_path_factory.mktemp(name))
        yield name, None, read_airflow_db(f"sqlite:///{path}"), facts_md(f"{name}.db.gz")
        return
    dsn = restore_dump(name, worker_id, "_releases")
    yield name, dsn, read_airflow_db(dsn), facts_md(f"{name}.sql.gz")
    admin(f'DROP DATABASE IF EXISTS "{dsn.rsplit("/", 1)[1]}" WITH (FORCE)')


Release = tuple[str, str | None, AirflowSnapshot, dict[str, list[dict[str, str]]]]


def test_release_and_schema_are_detected(release: Release) -> None:
    name, _, snapshot, facts = release
    [row] = fact(facts, "Schema revision")
    assert snapshot.schema_revision == row["version_num"]
    assert SUPPORTED_HEADS[row["version_num"]] == snapshot.airflow_version
    assert snapshot.airflow_version.startswith(RELEASE_LINE[name] + ".")
    assert not snapshot.problems


def test_dags_paused_state_owners_and_tags(release: Release) -> None:
    _, _, snapshot, facts = release
    rows = fact(facts, "DAGs, paused state and owners")
    active = {r["dag_id"]: r for r in rows if truth(r.get("is_active", "t")) and not truth(r.get("is_stale", "f"))}
    assert set(snapshot.dags) == set(active)
    for dag_id, row in active.items():
        assert snapshot.dags[dag_id].is_paused == truth(row["is_paused"]), dag_id
        assert set(snapshot.dags[dag_id].owners) == {o.strip() for o in row["owners"].split(",")}, dag_id
    tags: dict[str, set[str]] = {}
    for row in fact(facts, "DAG tags"):
        tags.setdefault(row["dag_id"], set()).add(row["name"])
    assert {d: set(dag.tags) for d, dag in snapshot.dags.items() if dag.tags} == tags


def test_tasks_edges_cosmos_tasks_and_selectors(release: Release) -> None:
    _, dsn, snapshot, facts = release
    for row in fact(facts, "Tasks, dependency edges"):
        dag = snapshot.dags[row["dag_id"]]
        assert len(dag.tasks) == int(row["tasks"]), row
        assert sum(len(t.downstream_task_ids) for t in dag.tasks.values()) == int(row["downstream_edges"]), row
        cosmos = [t for t in dag.tasks.values() if t.operator_module.startswith("cosmos.")]
        assert len(cosmos) == int(row["cosmos_tasks"]), row
    selectors = fact(facts, "Cosmos selectors")
    assert selectors
    for row in selectors:
        task = snapshot.dags[row["dag_id"]].tasks[row["task_id"]]
        assert task.operator_class == row["operator"]
        for field in ("select", "models"):
            assert task.template_fields.get(field, "") == row[field], (row, field)
    reporting = snapshot.dags["finance_reporting"]
    assert "notify_desk" in reporting.tasks  # only its second version has it
    if dsn is not None:  # every task's downstream ids against the serialized JSON itself
        for dag_id, (tasks, _) in serialized_tasks(dsn).items():
            for raw in tasks:
                read = snapshot.dags[dag_id].tasks[raw["task_id"]].downstream_task_ids
                assert set(read) == set(raw.get("downstream_task_ids") or []), (dag_id, raw["task_id"])


def test_outlets_schedules_and_asset_events(release: Release) -> None:
    _, _, snapshot, facts = release
    outlets = {(r["dag_id"], r["task_id"], r["uri"]) for r in fact(facts, "Explicit task outlets")}
    assert {(d, t, uri) for uri, a in snapshot.assets.items() for d, t in a.producing_tasks} == outlets
    assert outlets
    schedules = {(r["dag_id"], r["uri"]) for r in fact(facts, "Asset-scheduled DAGs")}
    assert {(d, a.uri) for d, dag in snapshot.dags.items() for a in dag.schedule_assets} == schedules
    events = Counter((r["source_dag_id"], r["source_task_id"], r["uri"]) for r in fact(facts, "Every asset event"))
    read = Counter((e.source_dag_id, e.source_task_id, e.asset_uri) for e in snapshot.asset_events)
    assert read == events
    assert any("fct_index_performance" in uri for _, _, uri in events)  # Cosmos outputs reached the DB


def test_runs_task_instances_import_errors_and_inventories(release: Release) -> None:
    _, _, snapshot, facts = release
    runs = {(r["dag_id"], r["run_type"], r["state"]): int(r["runs"]) for r in fact(facts, "DAG runs by state")}
    assert Counter((r.dag_id, r.run_type, r.state) for r in snapshot.dag_runs) == runs
    instances = {(r["dag_id"], r["state"]): int(r["task_instances"]) for r in fact(facts, "Task instances by state")}
    assert Counter((t.dag_id, t.state) for t in snapshot.task_instances) == instances
    failed = {(r["dag_id"], r["task_id"], r["state"]) for r in fact(facts, "Failed task instances")}
    assert {(t.dag_id, t.task_id, t.state) for t in snapshot.task_instances if t.state != "success"} == failed
    assert failed
    errors = [Path(r["filename"]).name for r in fact(facts, "Import errors")]
    assert [Path(e.filename).name for e in snapshot.import_errors] == errors == ["broken_dag.py"]
    connections = {(r["conn_id"], r["conn_type"]) for r in fact(facts, "Connections")}
    assert {(c.conn_id, c.conn_type) for c in snapshot.connections} == connections
    assert [v.key for v in snapshot.variables] == [r["key"] for r in fact(facts, "Variables")]
    assert "dummy-password" not in repr(snapshot)
