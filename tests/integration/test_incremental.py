"""Incremental syncs with a state file, on real Airflow dumps restored into the real PostgreSQL: an unchanged
second sync sends nothing, a new DAG run sends its own records, a deleted DAG is soft-deleted and restored
when it comes back, an emptied DB trips the fail-safe, and a state file of another setup is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import psycopg2
import pytest

from bridge.config import BridgeConfig, build_config
from bridge.errors import FailSafeError, StateError
from bridge.sync import SyncResult, run_sync
from tests.airflow_dumps import admin, restore_dump
from tests.cli import bridge
from tests.conftest import POSTGRES_ARTIFACTS

MANIFEST = POSTGRES_ARTIFACTS / "manifest.json"


@pytest.fixture(params=["af33", "af211"])
def airflow(request: pytest.FixtureRequest, worker_id: str) -> Iterator[tuple[str, str]]:
    """A dump restored for this test alone (the test changes it): release and DSN."""
    dsn = restore_dump(request.param, worker_id, "_incremental")
    yield request.param, dsn
    admin(f'DROP DATABASE IF EXISTS "{dsn.rsplit("/", 1)[1]}" WITH (FORCE)')


class Syncs:
    """Syncs of one setup into numbered files, with one state file."""

    def __init__(self, folder: Path, dsn: str | None, **config: Any) -> None:
        self.folder, self.dsn, self.config, self.count = folder, dsn, config, 0
        self.state = folder / "state.json"

    def configuration(self, manifest: Path = MANIFEST, **extra: Any) -> BridgeConfig:
        self.count += 1
        data: dict[str, Any] = {
            "dbt": {"manifests": [str(manifest)]},
            "run_history": {"days": 3650, "max_runs_per_dag": 1000},
            "sink": {"type": "file", "path": str(self.folder / f"out{self.count}.json")},
            "state": {"path": str(self.state)},
            **self.config,
            **extra,
        }
        if self.dsn:
            data["airflow_db"] = {"url": self.dsn}
        return build_config(data)

    def run(self, manifest: Path = MANIFEST, **extra: Any) -> tuple[SyncResult, list[dict[str, Any]]]:
        result = run_sync(self.configuration(manifest, **extra), lambda: datetime(2026, 11, 28, tzinfo=timezone.utc))
        out = self.folder / f"out{self.count}.json"
        return result, orjson.loads(out.read_bytes()) if out.exists() else []


def _sql(dsn: str, *statements: str) -> None:
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _columns(dsn: str, table: str) -> list[str]:
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            (table,),
        )
        return [name for (name,) in cursor.fetchall()]


def copy_last_run(dsn: str, dag_id: str, new_run_id: str) -> int:
    """A new DAG run made the way Airflow would store it: the DAG's last run and its task instances copied a
    day later under a new run id. The number of task instances it has."""
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT run_id FROM dag_run WHERE dag_id = %s ORDER BY id DESC LIMIT 1", (dag_id,))
        (run_id,) = cursor.fetchone()
    day = "+ interval '1 day'"
    shift = {"run_id": f"'{new_run_id}'", "id": None, "logical_date": day, "execution_date": day}
    shift |= {"start_date": day, "end_date": day, "queued_at": day, "data_interval_start": day}
    shift |= {"data_interval_end": day, "run_after": day}
    columns = [c for c in _columns(dsn, "dag_run") if shift.get(c, "") is not None]
    values = [shift[c] if c == "run_id" else f"{c} {shift[c]}" if c in shift else c for c in columns]
    _sql(dsn, f"INSERT INTO dag_run ({', '.join(columns)}) SELECT {', '.join(values)} FROM dag_run "
              f"WHERE dag_id = '{dag_id}' AND run_id = '{run_id}'")  # fmt: skip
    ti_columns = _columns(dsn, "task_instance")
    ti_values = [
        "gen_random_uuid()" if c == "id" else f"'{new_run_id}'" if c == "run_id"
        else f"{c} {day}" if c in ("start_date", "end_date", "queued_dttm", "scheduled_dttm") else c
        for c in ti_columns
    ]  # fmt: skip
    _sql(dsn, f"INSERT INTO task_instance ({', '.join(ti_columns)}) SELECT {', '.join(ti_values)} "
              f"FROM task_instance WHERE dag_id = '{dag_id}' AND run_id = '{run_id}'")  # fmt: skip
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM task_instance WHERE run_id = %s", (new_run_id,))
        (count,) = cursor.fetchone()
    return int(count)


def delete_dags(dsn: str, where: str) -> None:
    """DAGs deleted as `airflow dags delete` does: their rows in every table with a dag_id, children first."""
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.columns WHERE column_name = 'dag_id'")
        tables = sorted({name for (name,) in cursor.fetchall()})
        for _ in range(len(tables)):
            left = []
            for table in tables:
                cursor.execute("SAVEPOINT attempt")
                try:
                    cursor.execute(f'DELETE FROM "{table}" WHERE {where}')
                except psycopg2.errors.ForeignKeyViolation:
                    cursor.execute("ROLLBACK TO SAVEPOINT attempt")
                    left.append(table)
            tables = left
        assert not tables, f"rows of these tables could not be deleted: {tables}"


def removed(records: list[dict[str, Any]]) -> set[str]:
    return {r["entityUrn"] for r in records if r["aspectName"] == "status" and r["aspect"]["json"]["removed"]}


def test_an_unchanged_second_sync_sends_nothing(airflow: tuple[str, str], tmp_path: Path) -> None:
    syncs = Syncs(tmp_path, airflow[1])
    first, sent = syncs.run()
    assert first.failure is None and len(sent) > 500
    second, again = syncs.run()
    assert second.failure is None and again == []
    assert second.report.emitted == {}


def test_a_new_dag_run_sends_only_its_own_records(airflow: tuple[str, str], tmp_path: Path) -> None:
    release, dsn = airflow
    syncs = Syncs(tmp_path, dsn)
    syncs.run()
    instances = copy_last_run(dsn, "finance_reporting", "manual__2026-11-27T06:00:00+00:00")
    result, sent = syncs.run()
    assert result.failure is None, result.failure
    urns = {r["entityUrn"] for r in sent}
    assert {r["entityType"] for r in sent} == {"dataProcessInstance"}
    assert len(urns) == 1 + instances  # the DAG run and each of its task runs
    names = {r["aspect"]["json"]["name"] for r in sent if r["aspectName"] == "dataProcessInstanceProperties"}
    assert all("manual__2026-11-27T06:00:00+00:00" in name for name in names), release


def test_a_deleted_dag_is_soft_deleted_and_restored_when_it_comes_back(
    airflow: tuple[str, str], tmp_path: Path, worker_id: str
) -> None:
    release, dsn = airflow
    syncs = Syncs(tmp_path, dsn)
    _, first = syncs.run()
    jobs = {r["entityUrn"] for r in first if r["entityType"] == "dataJob" and ",finance_reporting," in r["entityUrn"]}
    delete_dags(dsn, "dag_id = 'finance_reporting'")
    result, sent = syncs.run()
    assert result.failure is None, result.failure
    flow = "urn:li:dataFlow:(airflow,finance_reporting,prod)"
    assert removed(sent) == {flow, *jobs} and len(jobs) >= 2
    restore_dump(release, worker_id, "_incremental")  # the DAG comes back (same database)
    result, back = syncs.run()
    assert result.failure is None, result.failure
    statuses = {r["entityUrn"]: r["aspect"]["json"]["removed"] for r in back if r["aspectName"] == "status"}
    assert statuses == dict.fromkeys((flow, *jobs), False)
    assert {r["entityUrn"] for r in back if r["aspectName"] == "dataJobInfo"} == jobs  # sent whole


def test_an_emptied_airflow_db_trips_the_fail_safe_and_removes_nothing(
    airflow: tuple[str, str], tmp_path: Path
) -> None:
    _, dsn = airflow
    syncs = Syncs(tmp_path, dsn)
    syncs.run()
    kept = syncs.state.read_bytes()
    delete_dags(dsn, "true")
    result, sent = syncs.run()
    assert isinstance(result.failure, FailSafeError)
    assert "DAGs and tasks" in str(result.failure) and "--fail-safe-threshold 100" in str(result.failure)
    assert removed(sent) == set()
    before, after = orjson.loads(kept)["entities"], orjson.loads(syncs.state.read_bytes())["entities"]
    held = {urn for urn in before if urn.startswith(("urn:li:dataFlow:", "urn:li:dataJob:"))}
    assert held and all(after[urn] == before[urn] for urn in held)  # still there, to be held or removed
    forced, gone = syncs.run(state={"path": str(syncs.state), "fail_safe_threshold": 100})
    assert forced.failure is None and any(",finance_dbt," in urn for urn in removed(gone))


def test_after_a_hold_the_next_sync_sends_what_the_held_one_changed(airflow: tuple[str, str], tmp_path: Path) -> None:
    """A sync without Airflow holds the removals but sends the datasets without Airflow's tags and owners;
    with Airflow back, the next sync sends them again."""
    syncs = Syncs(tmp_path, airflow[1])
    syncs.run()
    syncs.dsn = None
    held, stripped = syncs.run()
    assert isinstance(held.failure, FailSafeError) and stripped
    syncs.dsn = airflow[1]
    result, back = syncs.run()
    assert result.failure is None
    assert {(r["entityUrn"], r["aspectName"]) for r in stripped} <= {(r["entityUrn"], r["aspectName"]) for r in back}


def test_a_warehouse_table_is_not_the_bridges_to_remove(tmp_path: Path) -> None:
    syncs = Syncs(tmp_path, None)
    syncs.run()
    manifest = orjson.loads(MANIFEST.read_bytes())
    del manifest["nodes"]["model.finance.fct_index_performance"]
    smaller = tmp_path / "manifest.json"
    smaller.write_bytes(orjson.dumps(manifest))
    result, sent = syncs.run(smaller)
    assert result.failure is None
    dbt = "urn:li:dataset:(urn:li:dataPlatform:dbt,bridge_dbt.marts.fct_index_performance,PROD)"
    assert dbt in removed(sent) and not any(",bridge_dbt.marts.fct_index_performance," in urn and "postgres" in urn
                                            for urn in removed(sent))  # fmt: skip
    result, back = syncs.run()
    assert {r["entityUrn"]: r["aspect"]["json"]["removed"] for r in back if r["aspectName"] == "status"}[dbt] is False


def test_a_failed_read_removes_nothing_and_keeps_the_state(tmp_path: Path, worker_id: str) -> None:
    dsn = restore_dump("af33", worker_id, "_unreadable")
    syncs = Syncs(tmp_path, dsn)
    syncs.run()
    kept = syncs.state.read_bytes()
    admin(f'DROP DATABASE "{dsn.rsplit("/", 1)[1]}" WITH (FORCE)')
    result, sent = syncs.run()
    assert result.failure is not None and "does not exist" in str(result.failure)
    assert sent == [] and syncs.state.read_bytes() == kept


def test_a_changed_model_sends_its_changed_aspects_only(tmp_path: Path) -> None:
    syncs = Syncs(tmp_path, None)
    syncs.run()
    manifest = orjson.loads(MANIFEST.read_bytes())
    node = manifest["nodes"]["model.finance.fct_index_performance"]
    node["description"] = "Index performance, rewritten."
    changed = tmp_path / "manifest.json"
    changed.write_bytes(orjson.dumps(manifest))
    result, sent = syncs.run(changed)
    assert result.failure is None
    (record,) = sent
    assert record["entityUrn"] == "urn:li:dataset:(urn:li:dataPlatform:dbt,bridge_dbt.marts.fct_index_performance,PROD)"
    assert record["aspectName"] == "datasetProperties"
    assert record["aspect"]["json"]["description"] == "Index performance, rewritten."


def test_a_state_file_of_another_setup_or_a_corrupt_one_is_refused(tmp_path: Path) -> None:
    syncs = Syncs(tmp_path, None)
    syncs.run()
    result, sent = syncs.run(env="DEV")
    assert isinstance(result.failure, StateError) and sent == []
    assert str(result.failure) == (
        f"state file {syncs.state}: was written for env=PROD; this sync is env=DEV. Use one state file per setup: "
        "pass another --state path, or delete this one to start over."
    )
    syncs.state.write_text('{"version": 1, "identity"')
    done = bridge("sync", "--manifest", str(MANIFEST), "--sink", "file:x.json", "--state", str(syncs.state),
                  cwd=tmp_path)  # fmt: skip
    assert done.code == 2
    assert done.error_line.startswith(f"error: state file {syncs.state}: is not a state file this bridge wrote")
    assert done.error_line.endswith("to start over (the next sync sends everything).")
