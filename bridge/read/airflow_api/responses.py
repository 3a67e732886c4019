"""REST responses (API v1 and v2) -> the model types the DB reader returns. Pure: dicts in, frozen values out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from bridge.model.airflow import (
    AirflowDag,
    AirflowTask,
    Asset,
    AssetEvent,
    DagRun,
    ImportErrorInfo,
    TaskInstance,
    split_owners,
    upstream_ids,
)
from bridge.read.airflow_db.rows import schedule_text
from bridge.times import epoch_us, iso

# Rendered fields come back as `str()` of the value: these mean "no value".
_EMPTY_RENDERED = frozenset({"", "None", "[]", "{}"})
# Airflow's marker for a rendered value cut at `[core] max_templated_field_length`: not the real value.
_TRUNCATED = "Truncated. You can change this behaviour"
# Airflow 2's API lists a timedelta or relativedelta schedule as `{"__type": "TimeDelta", <fields>}`; its `dag`
# table holds the same fields, in this order, as the JSON text `{"type": "timedelta", "attrs": {<fields>}}`.
_INTERVALS: dict[str, tuple[str, tuple[str, ...]]] = {
    "TimeDelta": ("timedelta", ("days", "seconds", "microseconds")),
    "RelativeDelta": (
        "relativedelta",
        (
            *("years", "months", "days", "leapdays", "hours", "minutes", "seconds", "microseconds"),
            *("year", "month", "day", "hour", "minute", "second", "microsecond"),
        ),
    ),
}


def dag(
    summary: Mapping[str, Any],
    details: Mapping[str, Any],
    tasks: Sequence[Mapping[str, Any]],
    version: int | None = None,
) -> AirflowDag:
    """A DAG from its listing entry, its details (empty when not read) and its tasks; `version`: its latest
    version number when the details were not read."""
    decoded = [task(raw) for raw in tasks]
    upstream = upstream_ids(decoded)
    latest = details.get("latest_dag_version") or {"version_number": version}
    return AirflowDag(
        dag_id=summary["dag_id"],
        tasks={t.task_id: replace(t, upstream_task_ids=upstream.get(t.task_id, ())) for t in decoded},
        fileloc=details.get("fileloc") or summary.get("fileloc"),
        description=details.get("description") or summary.get("description"),
        doc_md=details.get("doc_md"),
        owners=split_owners(summary.get("owners") or details.get("owners") or []),
        tags=tuple(sorted({t["name"] for t in summary.get("tags") or details.get("tags") or []})),
        is_paused=bool(summary.get("is_paused")),
        is_active=not summary.get("is_stale", False) and summary.get("is_active", True) is not False,
        schedule=schedule(summary, details),
        version_number=latest.get("version_number"),
    )


def task(raw: Mapping[str, Any]) -> AirflowTask:
    class_ref = raw.get("class_ref") or {}
    return AirflowTask(
        task_id=raw["task_id"],
        operator_class=class_ref.get("class_name") or raw.get("operator_name") or "",
        operator_module=class_ref.get("module_path") or "",
        owner=raw.get("owner"),
        downstream_task_ids=tuple(sorted(raw.get("downstream_task_ids") or ())),
        template_fields=dict.fromkeys(raw.get("template_fields") or ()),
        doc=raw.get("doc_md"),
    )


def template_values(names: Mapping[str, Any], rendered: Mapping[str, Any]) -> dict[str, Any]:
    """Template fields with the values a run rendered; empty and truncated values are left out."""
    return {name: value for name, value in rendered.items() if (name in names or not names) and _meaningful(value)}


def _meaningful(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip() not in _EMPTY_RENDERED and not value.startswith(_TRUNCATED)
    return value is not None


def schedule(summary: Mapping[str, Any], details: Mapping[str, Any]) -> str | None:
    """The cron or timetable as the DB's `timetable_summary` (Airflow 3) holds it, or Airflow 2's
    `schedule_interval` read as the DB reader reads that column (`schedule_text`), so both readers agree."""
    value = summary.get("timetable_summary") or details.get("timetable_summary")
    if value is not None:
        return str(value) if value != "None" else None
    return schedule_text(interval_column(details.get("schedule_interval") or summary.get("schedule_interval")))


def interval_column(interval: Any) -> Any:
    """API v1's `schedule_interval` (`CronExpression`, `TimeDelta`, `RelativeDelta` or null) as the `dag` table's
    column holds it: the cron or preset as it is, an interval as `{"type": ..., "attrs": {...}}` JSON text."""
    if not isinstance(interval, Mapping):
        return interval
    if interval.get("__type") not in _INTERVALS:
        return interval.get("value")
    kind, fields = _INTERVALS[interval["__type"]]
    return json.dumps({"type": kind, "attrs": {name: interval.get(name) for name in fields}})


def asset(raw: Mapping[str, Any]) -> Asset:
    return Asset(
        uri=raw["uri"],
        name=raw.get("name"),
        group=raw.get("group") or None,
        extra=raw.get("extra") or {},
        producing_tasks=tuple(sorted((r["dag_id"], r["task_id"]) for r in raw.get("producing_tasks") or ())),
        consuming_tasks=tuple(sorted((r["dag_id"], r["task_id"]) for r in raw.get("consuming_tasks") or ())),
        scheduled_dags=tuple(sorted(r["dag_id"] for r in raw.get("scheduled_dags") or raw.get("consuming_dags") or ())),
        aliases=tuple(sorted(a["name"] for a in raw.get("aliases") or ())),
    )


def asset_event(raw: Mapping[str, Any]) -> AssetEvent:
    return AssetEvent(
        asset_uri=raw.get("uri") or raw.get("dataset_uri") or "",
        timestamp=iso(raw.get("timestamp")) or "",
        source_dag_id=raw.get("source_dag_id"),
        source_task_id=raw.get("source_task_id"),
        source_run_id=raw.get("source_run_id"),
        source_map_index=int(raw.get("source_map_index", -1)),
    )


def dag_run(raw: Mapping[str, Any]) -> DagRun:
    return DagRun(
        dag_id=raw["dag_id"],
        run_id=raw["dag_run_id"],
        state=raw.get("state"),
        run_type=raw.get("run_type"),
        logical_us=epoch_us(raw.get("logical_date") or raw.get("execution_date")),
        start_us=epoch_us(raw.get("start_date")),
        end_us=epoch_us(raw.get("end_date")),
        queued_us=epoch_us(raw.get("queued_at")),  # API v2 only
        conf=raw.get("conf") if isinstance(raw.get("conf"), dict) else ({} if raw.get("conf") is None else None),
    )


def task_instance(raw: Mapping[str, Any]) -> TaskInstance:
    return TaskInstance(
        dag_id=raw["dag_id"],
        task_id=raw["task_id"],
        run_id=raw["dag_run_id"],
        state=raw.get("state"),
        try_number=int(raw.get("try_number") or 0),
        map_index=int(raw.get("map_index", -1)),
        start_us=epoch_us(raw.get("start_date")),
        end_us=epoch_us(raw.get("end_date")),
        duration=raw.get("duration"),
        operator=raw.get("operator"),
        hostname=raw.get("hostname") or None,
    )


def import_error(raw: Mapping[str, Any]) -> ImportErrorInfo:
    lines = (raw.get("stack_trace") or "").strip().splitlines()
    return ImportErrorInfo(raw.get("filename") or "", iso(raw.get("timestamp")), lines[-1].strip() if lines else "")


def not_before(value: int | str | None, since: str) -> bool:
    """Whether a time (epoch microseconds, or ISO text) is at or after the ISO time `since`."""
    moment, start = value if isinstance(value, int) else epoch_us(value), epoch_us(since)
    return moment is not None and (start is None or moment >= start)
