"""`read_airflow_db`: everything a sync needs from an Airflow metadata DB, in a fixed number of statements.

    1. alembic_version              which schema (2.10/2.11 or 3.x), never configured
    2. dag, dag_tag                  active DAGs, paused state, owners, tags
    3. serialized_dag                the latest version of every active DAG (a bad row is reported, skipped)
    4. asset/dataset + references    URIs, explicit outlets and inlets, asset schedules, aliases
    5. asset/dataset events          what tasks were seen writing (Cosmos outputs on Airflow 3)
    6. dag_run, task_instance        run history since a given time
With a `dag_pattern`, the ids it allows are taken from `dag` first, and the statements of 3 and 6 carry them
as a parameter, so the rows of excluded DAGs are never fetched.
    7. import_error, connection, variable   file names; connection ids and types; variable names
All in one read-only transaction (`connect.py`), the statements in `queries.py`.

The statements whose rows grow with the installation (serialized DAGs, runs, task instances, events) are
streamed: each row becomes a model value as it arrives, so a read holds the values it returns plus one batch
of raw rows, never every serialized document (or every task instance row) at once.

Python's cyclic garbage collector is paused while a read runs (`collector_paused`): the read makes millions
of containers (decoded documents, tasks) and no cycle, and each full collection walks every object made so
far, which took a quarter of the time of a read of 30,000 DAGs.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from bridge.config import AirflowDbConfig
from bridge.db_url import DbTarget
from bridge.errors import AirflowSchemaError, ConfigError
from bridge.model.airflow import AirflowDag, AirflowSnapshot, Asset, AssetRef, split_owners
from bridge.model.pattern import NamePattern
from bridge.model.report import Problem
from bridge.read.airflow_db import rows
from bridge.read.airflow_db.connect import AirflowDb, open_db
from bridge.read.airflow_db.queries import Queries, only_dags, queries_for
from bridge.read.airflow_db.schema_version import AirflowSchema, schema_for_revision
from bridge.read.airflow_db.serialized_dag import SerializedDagError, decode_dag, describe_deadline, load_row
from bridge.read.scope import only_allowed
from bridge.times import utc

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Serialized DAGs fetched per round trip: a document is ~15 KB of JSON text, 60 KB for the fixture's Cosmos
# DAG, megabytes for a Cosmos DAG of a large dbt project; the batch is held twice (libpq's buffer and the
# Python strings). Measured on 6,006 DAGs: 50 adds 60 MiB peak RSS, 100 adds 69, 500 adds 116, at the same speed.
DOCUMENT_BATCH = 50


def read_airflow_db(
    target: str | DbTarget | AirflowDbConfig,
    since: str | None = None,
    runs: bool = True,
    dags: NamePattern | None = None,
) -> AirflowSnapshot:
    """Open the DB read-only, read everything, close. `since`: ISO time runs and events are read from;
    `runs`: whether DAG runs and task runs are read at all (their two statements are not sent otherwise);
    `dags`: which dag_ids are read (the serialized DAGs, runs and task instances of the others are not
    even fetched: the statements carry the list of allowed ids)."""
    db = open_db(target)
    try:
        return read_snapshot(db, since, runs, dags)
    finally:
        db.close()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off inside (reference counting still frees everything the read drops),
    back on after, as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_snapshot(
    db: AirflowDb, since: str | None = None, runs: bool = True, dags_read: NamePattern | None = None
) -> AirflowSnapshot:
    """Everything, through an open connection (the same statements whatever the number of DAGs)."""
    with collector_paused():
        return _read_snapshot(db, since, runs, dags_read)


def _read_snapshot(db: AirflowDb, since: str | None, runs: bool, dags_read: NamePattern | None) -> AirflowSnapshot:
    schema = detect_schema(db)
    q = queries_for(schema)
    start = since_parameter(since, db.dialect)
    scope = _scope(db, q, dags_read)
    if scope is not None:
        q = only_dags(q, schema.major, db.dialect)
    ids: list[object] = [] if scope is None else [scope.parameter]
    dags, problems = read_dags(db, q, ids)
    dags = with_deadlines(db, dags)
    assets = read_assets(db, q)
    snapshot = AirflowSnapshot(
        source="db",
        airflow_version=schema.airflow_version,
        schema_revision=schema.revision,
        dags=with_schedules(dags, assets, alias_schedules(db.query(q.schedule_aliases))),
        assets=assets,
        asset_events=rows.asset_events(db.stream(q.events, [start])),
        dag_runs=rows.dag_runs(db.stream(q.runs, [start, *ids]) if runs else ()),
        task_instances=rows.task_instances(db.stream(q.task_instances, [start, *ids]) if runs else ()),
        import_errors=rows.import_errors(db.query(q.import_errors)),
        connections=rows.connections(db.query(q.connections)),
        variables=rows.variables(db.query(q.variables)),
        problems=tuple(problems),
    )
    return snapshot if scope is None else only_allowed(snapshot, scope.allowed)


@dataclass(frozen=True, slots=True)
class _Scope:
    allowed: frozenset[str]
    parameter: object  # the allowed ids as the driver binds a list: a list (PostgreSQL), JSON text (SQLite)


def _scope(db: AirflowDb, q: Queries, dags_read: NamePattern | None) -> _Scope | None:
    """The dag_ids the pattern allows, from the `dag` table (one small statement); None: every DAG."""
    if dags_read is None or dags_read.allows_all:
        return None
    allowed = sorted(r[0] for r in db.query(q.dags) if dags_read.allowed(r[0]))
    return _Scope(frozenset(allowed), allowed if db.dialect == "postgresql" else json.dumps(allowed))


def detect_schema(db: AirflowDb) -> AirflowSchema:
    try:
        found = db.query("SELECT version_num FROM alembic_version")
    except AirflowSchemaError as exc:
        raise AirflowSchemaError(
            f"Airflow DB {db.where}: no alembic_version table, so this is not an Airflow metadata database "
            f"({exc.__cause__ or exc}). Check the database name (or file) in the URL."
        ) from None
    return schema_for_revision(found[0][0] if found else None, db.where)


def since_parameter(since: str | None, dialect: str) -> datetime | str:
    """The start of run history: a UTC datetime, or Airflow's text form on SQLite (compared as text there)."""
    try:
        moment = utc(since) if since else EPOCH
    except ValueError:
        raise ConfigError(f"run history start {since!r} is not an ISO-8601 time (e.g. 2026-01-31T00:00:00Z).") from None
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else moment


def read_dags(db: AirflowDb, q: Queries, ids: list[object]) -> tuple[dict[str, AirflowDag], list[Problem]]:
    """Every active DAG at its latest serialized version; a row that cannot be decoded becomes a problem.

    The serialized rows are streamed and each document is decoded, turned into an `AirflowDag` and dropped
    before the next, so one decoded document is alive at a time.
    """
    tags: dict[str, list[str]] = {}
    for dag_id, name in db.query(q.tags):
        tags.setdefault(dag_id, []).append(name)
    facts = {r[0]: r for r in db.query(q.dags)}
    dags: dict[str, AirflowDag] = {}
    problems: list[Problem] = []
    for dag_id, version, data, data_compressed in db.stream(q.serialized, ids, batch=DOCUMENT_BATCH):
        try:
            decoded = decode_dag(dag_id, load_row(data, data_compressed), version)
        except SerializedDagError as exc:
            problems.append(bad_row(dag_id, version, exc))
            continue
        dags[dag_id] = with_dag_facts(decoded, facts.get(dag_id), tags.get(dag_id, []))
    return dags, problems


def with_deadlines(db: AirflowDb, dags: dict[str, AirflowDag]) -> dict[str, AirflowDag]:
    """Airflow 3.3 lists a DAG's deadline alerts by id: described from `deadline_alert` (two statements,
    sent only when some DAG has a deadline)."""
    if not any(dag.deadlines for dag in dags.values()):
        return dags
    probe = (
        "SELECT to_regclass('deadline_alert') IS NOT NULL"
        if db.dialect == "postgresql"
        else "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'deadline_alert'"
    )
    if not rows.as_bool(db.query(probe)[0][0]):
        return dags
    alerts = {
        str(alert_id): describe_deadline(name, rows.as_json(reference), rows.as_json(interval))
        for alert_id, name, reference, interval in db.query(
            'SELECT id, name, reference, "interval" FROM deadline_alert ORDER BY id'
        )
    }
    return {
        dag_id: replace(dag, deadlines=tuple(alerts.get(d, d) for d in dag.deadlines)) if dag.deadlines else dag
        for dag_id, dag in dags.items()
    }


def bad_row(dag_id: str, version: int | None, exc: SerializedDagError) -> Problem:
    which = f"version {version}" if version is not None else "row"
    message = (
        f"its serialized_dag {which} cannot be read: {exc}. The DAG is skipped; the others are read. "
        f"Re-serialize it (`airflow dags reserialize`) and check the DAG file."
    )
    return Problem("bad-serialized-dag", "error", f"dag {dag_id}", message)


def with_dag_facts(dag: AirflowDag, fact: tuple[Any, ...] | None, tags: list[str]) -> AirflowDag:
    """The serialized DAG with what the `dag` table knows: paused, active, owners, schedule, tags."""
    if fact is None:
        return dag
    _, is_paused, is_stale, fileloc, owners, description, schedule = fact
    return replace(
        dag,
        is_paused=rows.as_bool(is_paused),
        is_active=not rows.as_bool(is_stale),
        fileloc=fileloc or dag.fileloc,
        owners=split_owners([owners]),
        description=description or dag.description,
        schedule=rows.schedule_text(schedule),
        tags=tuple(sorted(set(tags) | set(dag.tags))),
    )


def read_assets(db: AirflowDb, q: Queries) -> dict[str, Asset]:
    """Assets (datasets on 2.x) by URI, with the tasks that declare them and the DAGs scheduled on them."""
    by_id = {r[0]: Asset(uri=r[1], name=r[2], group=r[3] or None, extra=rows.as_dict(r[4])) for r in db.query(q.assets)}
    producing = pairs(db.query(q.outlets))
    consuming = pairs(db.query(q.inlets)) if q.inlets else {}
    scheduled = grouped(db.query(q.schedules))
    aliases = grouped((asset_id, alias) for alias, asset_id in db.query(q.aliases) if asset_id is not None)
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


def pairs(found: Iterable[tuple[Any, ...]]) -> dict[Any, list[tuple[str, str]]]:
    """asset id -> the (dag_id, task_id) pairs of a reference table."""
    return grouped((asset_id, (dag_id, task_id)) for asset_id, dag_id, task_id in found)


def grouped(found: Iterable[tuple[Any, Any]]) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = {}
    for key, value in found:
        groups.setdefault(key, []).append(value)
    return groups


def alias_schedules(found: Iterable[tuple[Any, ...]]) -> dict[str, list[str]]:
    """dag_id -> the asset aliases it is scheduled on."""
    return grouped((dag_id, alias) for alias, dag_id in found)


def with_schedules(
    dags: dict[str, AirflowDag], assets: dict[str, Asset], on_aliases: dict[str, list[str]]
) -> dict[str, AirflowDag]:
    """Each DAG with the assets it is scheduled on: directly, or through an alias (resolved to its assets)."""
    waits: dict[str, set[str]] = {}
    for asset in assets.values():
        for dag_id in asset.scheduled_dags:
            waits.setdefault(dag_id, set()).add(asset.uri)
        for dag_id, aliases in on_aliases.items():
            if set(aliases) & set(asset.aliases):
                waits.setdefault(dag_id, set()).add(asset.uri)
    return {
        dag_id: replace(
            dag, schedule_assets=tuple(AssetRef(uri, assets[uri].name) for uri in sorted(waits.get(dag_id, ())))
        )
        for dag_id, dag in sorted(dags.items())
    }
