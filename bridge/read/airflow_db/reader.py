"""`read_airflow_db`: everything a sync needs from an Airflow metadata DB, in a fixed number of queries.

    1. alembic_version            which schema (2.10/2.11 or 3.x), never configured
    2. dag, dag_tag                active DAGs, paused state, owners, tags
    3. serialized_dag              the latest version of every active DAG (bad rows reported and skipped)
    4. asset/dataset + references  URIs, explicit outlets and inlets, asset schedules, aliases
    5. asset/dataset events        what tasks were seen writing (Cosmos outputs on Airflow 3)
    6. dag_run, task_instance      run history since a given time
    7. import_error, connection, variable   names and types only
All in one read-only transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from bridge.errors import AirflowDbError, AirflowSchemaError
from bridge.model.airflow import AirflowDag, AirflowSnapshot, Asset, AssetRef
from bridge.model.report import Problem
from bridge.read.airflow_db import rows
from bridge.read.airflow_db.connect import AirflowDb, open_db
from bridge.read.airflow_db.queries import Queries, queries_for
from bridge.read.airflow_db.schema_version import AirflowSchema, schema_for_revision
from bridge.read.airflow_db.serialized_dag import SerializedDagError, decode_dag, load_row

EPOCH = "1970-01-01T00:00:00+00:00"


def read_airflow_db(url: str, since: str | None = None) -> AirflowSnapshot:
    """Open the DB read-only, read everything, close. `since`: ISO time runs and events are read from."""
    db = open_db(url)
    try:
        return read_snapshot(db, since)
    finally:
        db.close()


def read_snapshot(db: AirflowDb, since: str | None = None) -> AirflowSnapshot:
    schema = detect_schema(db)
    q = queries_for(schema.major)
    start = _since_param(db, since or EPOCH)
    try:
        dags, problems = _dags(db, q)
        assets = _assets(db, q)
        snapshot = AirflowSnapshot(
            source="db",
            airflow_version=schema.airflow_version,
            schema_revision=schema.revision,
            dags=_with_schedules(dags, assets),
            assets=assets,
            asset_events=rows.asset_events(db.query(q.events, [start])),
            dag_runs=rows.dag_runs(db.query(q.runs, [start])),
            task_instances=rows.task_instances(db.query(q.task_instances, [start])),
            import_errors=rows.import_errors(db.query(q.import_errors)),
            connections=rows.connections(db.query(q.connections)),
            variables=rows.variables(db.query(q.variables)),
            problems=tuple(problems),
        )
    except AirflowDbError:
        raise
    except Exception as exc:  # a driver error mid-read: name the DB, keep the driver's first line
        raise AirflowDbError(f"Airflow DB {db.where}: reading failed ({_first_line(exc)}).") from exc
    return snapshot


def detect_schema(db: AirflowDb) -> AirflowSchema:
    try:
        found = db.query("SELECT version_num FROM alembic_version")
    except Exception as exc:
        db.connection.rollback()
        raise AirflowSchemaError(
            f"Airflow DB {db.where}: no alembic_version table ({_first_line(exc)}), so this is not an Airflow "
            "metadata database. Check the database name in the URL."
        ) from None
    return schema_for_revision(found[0][0] if found else None, db.where)


def _since_param(db: AirflowDb, since: str) -> str:
    # SQLite stores times as `YYYY-MM-DD HH:MM:SS.ffffff[+00:00]`: compare like with like.
    return since.replace("T", " ", 1) if db.dialect == "sqlite" else since


def _dags(db: AirflowDb, q: Queries) -> tuple[dict[str, AirflowDag], list[Problem]]:
    tags: dict[str, list[str]] = {}
    for dag_id, name in db.query(q.tags):
        tags.setdefault(dag_id, []).append(name)
    facts = {r[0]: r for r in db.query(q.dags)}
    dags: dict[str, AirflowDag] = {}
    problems: list[Problem] = []
    for dag_id, version, data, data_compressed in db.query(q.serialized):
        try:
            decoded = decode_dag(dag_id, load_row(data, data_compressed), version)
        except (SerializedDagError, KeyError, TypeError) as exc:
            message = (
                f"its serialized_dag row cannot be read ({exc}); skipped. Re-serialize it: airflow dags reserialize"
            )
            problems.append(Problem("bad-serialized-dag", "error", f"dag {dag_id}", message))
            continue
        dags[dag_id] = _with_dag_facts(decoded, facts.get(dag_id), tags.get(dag_id, []))
    return dags, problems


def _with_dag_facts(dag: AirflowDag, fact: tuple[Any, ...] | None, tags: list[str]) -> AirflowDag:
    if fact is None:
        return dag
    _, is_paused, is_stale, fileloc, owners, description, schedule = fact
    return replace(
        dag,
        is_paused=rows.as_bool(is_paused),
        is_active=not rows.as_bool(is_stale),
        fileloc=fileloc or dag.fileloc,
        owners=tuple(o.strip() for o in (owners or "").split(",") if o.strip()),
        description=description or dag.description,
        schedule=str(schedule).strip('"') if schedule else None,
        tags=tuple(sorted(set(tags) | set(dag.tags))),
    )


def _assets(db: AirflowDb, q: Queries) -> dict[str, Asset]:
    by_id: dict[Any, Asset] = {}
    for asset_id, uri, name, group, extra in db.query(q.assets):
        by_id[asset_id] = Asset(uri=uri, name=name, group=group, extra=extra if isinstance(extra, dict) else {})
    producing = _pairs(db.query(q.outlets))
    consuming = _pairs(db.query(q.inlets)) if q.inlets else {}
    scheduled: dict[Any, list[str]] = {}
    for asset_id, dag_id in db.query(q.schedules):
        scheduled.setdefault(asset_id, []).append(dag_id)
    aliases: dict[Any, list[str]] = {}
    for alias, asset_id in db.query(q.aliases):
        if asset_id is not None:
            aliases.setdefault(asset_id, []).append(alias)
    return {
        asset.uri: replace(
            asset,
            producing_tasks=tuple(producing.get(asset_id, ())),
            consuming_tasks=tuple(consuming.get(asset_id, ())),
            scheduled_dags=tuple(scheduled.get(asset_id, ())),
            aliases=tuple(aliases.get(asset_id, ())),
        )
        for asset_id, asset in sorted(by_id.items(), key=lambda item: item[1].uri)
    }


def _pairs(found: Iterable[tuple[Any, ...]]) -> dict[Any, list[tuple[str, str]]]:
    pairs: dict[Any, list[tuple[str, str]]] = {}
    for asset_id, dag_id, task_id in found:
        pairs.setdefault(asset_id, []).append((dag_id, task_id))
    return pairs


def _with_schedules(dags: dict[str, AirflowDag], assets: dict[str, Asset]) -> dict[str, AirflowDag]:
    """Each DAG with the assets it is scheduled on (from dag_schedule_*_reference)."""
    waits: dict[str, list[AssetRef]] = {}
    for asset in assets.values():
        for dag_id in asset.scheduled_dags:
            waits.setdefault(dag_id, []).append(AssetRef(asset.uri, asset.name))
    return {dag_id: replace(dag, schedule_assets=tuple(waits.get(dag_id, ()))) for dag_id, dag in sorted(dags.items())}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
