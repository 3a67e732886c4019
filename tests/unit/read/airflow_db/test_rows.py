"""Column values as the `dag` table holds them, read the same on every release and by the operator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bridge.read.airflow_db.rows import dag_runs, schedule_text, task_instances

UTC2 = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ('"@daily"', "@daily"),  # Airflow 2: JSON text
        ("0 0 * * *", "0 0 * * *"),  # Airflow 3: the timetable's summary
        ("null", None),  # Airflow 2, no schedule
        ("None", None),  # Airflow 3, no schedule
        (None, None),
        ('{"type": "timedelta", "attrs": {"days": 0, "seconds": 3600, "microseconds": 0}}', "1:00:00"),
        ('{"type": "timedelta", "attrs": {"days": 1, "seconds": 0, "microseconds": 0}}', "1 day, 0:00:00"),
        ('{"type": "relativedelta", "attrs": {"months": 1}}', '{"type": "relativedelta", "attrs": {"months": 1}}'),
    ],
)
def test_a_schedule_reads_as_its_timetable_summarises_it(stored: str | None, expected: str | None) -> None:
    assert schedule_text(stored) == expected


def test_run_history_rows_read_the_same_from_postgresql_and_sqlite() -> None:
    """PostgreSQL gives aware datetimes and a float duration, SQLite UTC text: the same records."""
    start, end = datetime(2026, 1, 5, 6, 0, 1, 250000, tzinfo=timezone.utc), datetime(2026, 1, 5, 6, 0, 9, tzinfo=UTC2)
    postgres = (("d", "t", "r1", "success", 1, None, start, end, 5.75, "BashOperator", ""),)
    sqlite = (("d", "t", "r1", "success", 1, -1, "2026-01-05 06:00:01.250000", "2026-01-05 04:00:09.000000", 5.75,
               "BashOperator", None),)  # fmt: skip
    assert task_instances(postgres) == task_instances(sqlite)
    [instance] = task_instances(postgres)
    assert (instance.start_us, instance.end_us) == (1_767_592_801_250_000, 1_767_585_609_000_000)
    assert instance.map_index == -1 and instance.hostname is None and instance.seen_us is None

    runs = dag_runs((("d", "r1", "success", "manual", start, start, None, start, None),))
    assert [(r.logical_us, r.end_us, r.queued_us, r.conf) for r in runs] == [
        (1_767_592_801_250_000, None, 1_767_592_801_250_000, {})
    ]
