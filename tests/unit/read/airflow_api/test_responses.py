"""REST answers -> model values, without a server: what Airflow 2's API lists as a DAG's schedule reads as the DB
reader reads Airflow 2's `dag.schedule_interval` column."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.read.airflow_api.responses import interval_column, schedule
from bridge.read.airflow_db.rows import schedule_text

HOURLY = {"__type": "TimeDelta", "days": 0, "seconds": 3600, "microseconds": 0}
MONTHLY = {"__type": "RelativeDelta", "years": 0, "months": 1, "days": 0, "leapdays": 0, "hours": 0, "minutes": 0} | {
    "seconds": 0, "microseconds": 0, "year": None, "month": None, "day": 1, "hour": None, "minute": None,
    "second": None, "microsecond": None,
}  # fmt: skip
# API v1's `schedule_interval` (airflow/api_connexion/schemas/common_schema.py) -> the `dag` table's column text
# (airflow/utils/sqlalchemy.py `Interval`: json.dumps of the type's name and its attributes, in that order)
V1_FORMS: dict[str, tuple[Any, Any]] = {
    "timedelta": (HOURLY, '{"type": "timedelta", "attrs": {"days": 0, "seconds": 3600, "microseconds": 0}}'),
    "relativedelta": (
        MONTHLY,
        '{"type": "relativedelta", "attrs": {"years": 0, "months": 1, "days": 0, "leapdays": 0, "hours": 0, '
        '"minutes": 0, "seconds": 0, "microseconds": 0, "year": null, "month": null, "day": 1, "hour": null, '
        '"minute": null, "second": null, "microsecond": null}}',
    ),
    "cron": ({"__type": "CronExpression", "value": "0 6 * * *"}, '"0 6 * * *"'),
    "preset": ({"__type": "CronExpression", "value": "@daily"}, '"@daily"'),
    "none": (None, "null"),
}


@pytest.mark.parametrize("form", sorted(V1_FORMS))
def test_a_v1_schedule_reads_as_the_db_column_does(form: str) -> None:
    listed, column = V1_FORMS[form]
    assert schedule({"schedule_interval": listed}, {}) == schedule_text(column)
    assert schedule({}, {"schedule_interval": listed}) == schedule_text(column)  # the details say the same


def test_a_timedelta_schedule_reads_as_its_timetable_summary() -> None:
    assert schedule({"schedule_interval": HOURLY}, {}) == "1:00:00"
    assert schedule({"schedule_interval": {**HOURLY, "days": 2, "seconds": 0}}, {}) == "2 days, 0:00:00"


def test_airflow_3_timetable_summary_wins_and_none_is_no_schedule() -> None:
    assert schedule({"timetable_summary": "0 6 * * *", "schedule_interval": HOURLY}, {}) == "0 6 * * *"
    assert schedule({"timetable_summary": "None"}, {}) is None
    assert schedule({}, {}) is None


def test_the_column_text_keeps_airflows_field_order() -> None:
    shuffled = dict(reversed(list(MONTHLY.items())))
    assert interval_column(shuffled) == V1_FORMS["relativedelta"][1]
