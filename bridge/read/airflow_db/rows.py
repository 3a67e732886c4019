"""Rows of the bulk queries -> model values (timestamps as ISO strings in UTC, booleans as bools).

PostgreSQL gives timezone-aware datetimes; SQLite gives text (`2026-01-05 06:00:00.000000`, UTC without an
offset) and 0/1; JSON is text on both (`connect.py`). Both come out the same.

Runs and task instances are the rows a large installation has most of (hundreds of thousands): their rows
go into the model's columns (`DagRuns`, `TaskInstances`) as they are streamed, a batch at a time, without a
record object per row; times as epoch microseconds, each distinct id and word (DAG, task and run ids,
states, operators, hosts) kept once.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import orjson

from bridge.model.airflow import (
    NO_CONF,
    AssetEvent,
    ConnectionInfo,
    DagRuns,
    ImportErrorInfo,
    TaskInstances,
    VariableInfo,
)
from bridge.read.airflow_db.run_conf import run_conf
from bridge.times import epoch_us, iso


def schedule_text(value: Any) -> str | None:
    """A DAG's schedule as the `dag` table shows it (cron, preset or timetable summary); None for no schedule,
    which Airflow 2 stores as JSON `null` and Airflow 3 summarises as `None` (the REST reader agrees). Airflow
    2 stores a timedelta schedule as `{"type": "timedelta", "attrs": {...}}`: it reads as its timetable's
    summary does (`1:00:00`)."""
    decoded = as_json(value)
    if isinstance(decoded, dict) and decoded.get("type") == "timedelta" and isinstance(decoded.get("attrs"), dict):
        try:
            return str(timedelta(**decoded["attrs"]))
        except (TypeError, ValueError, OverflowError):
            return str(value)
    text = str(value).strip('"') if value is not None else ""
    return None if text in ("", "null", "None") else text


def shared(value: Any) -> Any:
    """One string object for a value many rows repeat (`sys.intern`); anything else (None, ...) as it is."""
    return sys.intern(value) if type(value) is str else value


def as_bool(value: Any) -> bool:
    return bool(value) and value not in ("0", "false", "f")


def as_json(value: Any) -> Any:
    """A JSON column: decoded by psycopg2 (jsonb), text elsewhere; text that is not JSON stays text."""
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON object column (`extra`); anything else is empty."""
    value = as_json(value)
    return value if isinstance(value, dict) else {}


def dag_runs(rows: Iterable[tuple[Any, ...]]) -> DagRuns:
    """dag_id, run_id, state, run_type, logical date, start, end, queued, conf -> `DagRun`'s fields."""
    return DagRuns.from_values(
        (r[0], r[1], r[2], r[3], epoch_us(r[4]), epoch_us(r[5]), epoch_us(r[6]), epoch_us(r[7]), _conf(r[8]))
        for r in rows
    )


def _conf(value: Any) -> Any:
    """A run's conf, the empty one shared (most runs are given none)."""
    conf = run_conf(value)
    return NO_CONF if conf == {} else conf


def task_instances(rows: Iterable[tuple[Any, ...]]) -> TaskInstances:
    """The task-instance statement's columns -> `TaskInstance`'s fields (seen_us: not known to the DB)."""
    return TaskInstances.from_values(
        (
            r[0],
            r[1],
            r[2],
            r[3],
            int(r[4] or 0),
            int(r[5] if r[5] is not None else -1),
            epoch_us(r[6]),
            epoch_us(r[7]),
            float(r[8]) if r[8] is not None else None,
            r[9],
            r[10] or None,
            None,
        )
        for r in rows
    )


def asset_events(rows: Iterable[tuple[Any, ...]]) -> tuple[AssetEvent, ...]:
    return tuple(
        AssetEvent(
            asset_uri=shared(r[0]),
            timestamp=iso(r[1]) or "",
            source_dag_id=shared(r[2]),
            source_task_id=shared(r[3]),
            source_run_id=shared(r[4]),
            source_map_index=int(r[5] if r[5] is not None else -1),
        )
        for r in rows
    )


def import_errors(rows: Iterable[tuple[Any, ...]]) -> tuple[ImportErrorInfo, ...]:
    """File and time of each import error, with the last line of its stack trace (the exception)."""
    return tuple(ImportErrorInfo(r[0], iso(r[1]), last_line(r[2])) for r in rows)


def last_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[-1].strip() if lines else ""


def connections(rows: Iterable[tuple[Any, ...]]) -> tuple[ConnectionInfo, ...]:
    return tuple(ConnectionInfo(r[0], r[1], r[2] or None) for r in rows)


def variables(rows: Iterable[tuple[Any, ...]]) -> tuple[VariableInfo, ...]:
    return tuple(VariableInfo(r[0]) for r in rows)
