"""Run history's times as epoch microseconds give DataHub's milliseconds and the ISO text exactly as the
ISO text the readers used to keep did, for every form a reader meets."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from bridge.times import EPOCH, epoch_ms, epoch_us, iso, iso_of_us, ms_of_us


@pytest.mark.parametrize(
    "stored",
    [
        datetime(2026, 1, 5, 6, 0, 0, 123456, tzinfo=timezone.utc),  # PostgreSQL
        datetime(2026, 1, 5, 8, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2))),
        "2026-01-05 06:00:00.000000",  # SQLite: UTC without an offset
        "2026-01-05 06:00:00.000999",
        "2026-01-05T06:00:00.5Z",  # REST
        "2026-01-05T06:00:00+00:00",
        datetime(1969, 12, 31, 23, 59, 59, 999),
    ],
)
def test_microseconds_give_the_milliseconds_and_text_of_the_iso_time(stored: datetime | str) -> None:
    us = epoch_us(stored)
    assert ms_of_us(us) == epoch_ms(iso(stored)) and iso_of_us(us) == iso(stored)


def test_every_microsecond_gives_the_milliseconds_its_text_gives() -> None:
    moments = random.Random(7).sample(range(-(10**15), 4 * 10**15), 20_000)
    for us in moments:
        text = (EPOCH + timedelta(microseconds=us)).isoformat()
        assert epoch_us(text) == us and ms_of_us(us) == epoch_ms(text) and iso_of_us(us) == text


def test_a_datetime_subclass_is_read_as_its_moment() -> None:
    class Moment(datetime):  # Airflow's pendulum datetimes subclass datetime, with arithmetic of their own
        def __sub__(self, other: object) -> timedelta:  # type: ignore[override]
            raise AssertionError("its own subtraction was used")

    assert epoch_us(Moment(2026, 1, 5, 6, tzinfo=timezone.utc)) == 1_767_592_800_000_000


@pytest.mark.parametrize("stored", [None, "", "not a time"])
def test_no_time_is_none(stored: str | None) -> None:
    assert epoch_us(stored) is None and ms_of_us(None) is None and iso_of_us(None) is None
