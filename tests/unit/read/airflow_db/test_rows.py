"""Column values as the `dag` table holds them, read the same on every release and by the operator."""

from __future__ import annotations

import pytest

from bridge.read.airflow_db.rows import schedule_text


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
