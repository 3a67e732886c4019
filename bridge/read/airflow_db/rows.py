"""Rows of the bulk queries -> model values (timestamps as ISO strings, booleans as bools)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bridge.model.airflow import AssetEvent, ConnectionInfo, DagRun, ImportErrorInfo, TaskInstance, VariableInfo


def iso(value: Any) -> str | None:
    """An ISO-8601 string: datetimes from PostgreSQL, `YYYY-MM-DD HH:MM:SS...` text from SQLite."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).replace(" ", "T", 1)


def as_bool(value: Any) -> bool:
    return bool(value) and value not in ("0", "false", "f")


def dag_runs(rows: Iterable[tuple[Any, ...]]) -> tuple[DagRun, ...]:
    return tuple(DagRun(r[0], r[1], r[2], r[3], iso(r[4]), iso(r[5]), iso(r[6])) for r in rows)


def task_instances(rows: Iterable[tuple[Any, ...]]) -> tuple[TaskInstance, ...]:
    return tuple(
        TaskInstance(
            dag_id=r[0],
            task_id=r[1],
            run_id=r[2],
            state=r[3],
            try_number=int(r[4] or 0),
            map_index=int(r[5] if r[5] is not None else -1),
            start_date=iso(r[6]),
            end_date=iso(r[7]),
            duration=float(r[8]) if r[8] is not None else None,
            operator=r[9],
            hostname=r[10] or None,
        )
        for r in rows
    )


def asset_events(rows: Iterable[tuple[Any, ...]]) -> tuple[AssetEvent, ...]:
    return tuple(
        AssetEvent(
            asset_uri=r[0],
            timestamp=iso(r[1]) or "",
            source_dag_id=r[2],
            source_task_id=r[3],
            source_run_id=r[4],
            source_map_index=int(r[5] if r[5] is not None else -1),
        )
        for r in rows
    )


def import_errors(rows: Iterable[tuple[Any, ...]]) -> tuple[ImportErrorInfo, ...]:
    return tuple(
        ImportErrorInfo(r[0], iso(r[1]), (r[2] or "").strip().splitlines()[-1:][0] if r[2] else "") for r in rows
    )


def connections(rows: Iterable[tuple[Any, ...]]) -> tuple[ConnectionInfo, ...]:
    return tuple(ConnectionInfo(r[0], r[1]) for r in rows)


def variables(rows: Iterable[tuple[Any, ...]]) -> tuple[VariableInfo, ...]:
    return tuple(VariableInfo(r[0]) for r in rows)
