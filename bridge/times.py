"""Time as the bridge handles it, in one place: Airflow stores every time in UTC, and a time without an offset
(SQLite's text, a naive datetime) is read as UTC. `iso` gives ISO-8601 text, `epoch_ms` the milliseconds
DataHub's records carry, `utc` the moment itself (the run-history watermark).

Run history keeps its times as epoch microseconds (`epoch_us`): an int, exact (Airflow stores microseconds),
where ISO text costs ~80 bytes a time; `ms_of_us` and `iso_of_us` give exactly what `epoch_ms` and `iso` give
for the same moment, so the records made from either are the same."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def utc(value: datetime | str) -> datetime:
    """The moment in UTC: a datetime, or ISO-8601 text (`...Z` too); a ValueError for text that is not a time."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def iso(value: Any) -> str | None:
    """ISO-8601 text in UTC (`2026-01-05T06:00:00+00:00`) of PostgreSQL's datetimes, SQLite's text and the REST
    API's `...Z` alike; None for nothing, and text that is not a time kept as it is."""
    if value is None or value == "":
        return None
    try:
        return utc(value if isinstance(value, datetime) else str(value)).isoformat()
    except ValueError:
        return str(value)


def epoch_ms(timestamp: str | None) -> int | None:
    """Milliseconds since the epoch of an ISO-8601 time (naive times are UTC)."""
    return int(utc(timestamp).timestamp() * 1000) if timestamp else None


def epoch_us(value: Any) -> int | None:
    """Microseconds since the epoch of a datetime (naive: UTC) or ISO-8601 text; None for nothing and for
    text that is not a time."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        # A subclass (pendulum's, in Airflow) as a plain datetime: its own subtraction returns its own type.
        moment = value if type(value) is datetime else datetime.combine(value.date(), value.timetz(), value.tzinfo)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    else:
        try:
            moment = utc(str(value))
        except ValueError:
            return None
    return (moment - EPOCH) // _MICROSECOND


def ms_of_us(us: int | None) -> int | None:
    """Epoch milliseconds of epoch microseconds, as `epoch_ms` computes them from the same time's text
    (`timestamp()` is the microseconds over 10**6, rounded once; then * 1000, truncated)."""
    return None if us is None else int(us / 10**6 * 1000)


def iso_of_us(us: int | None) -> str | None:
    """The ISO-8601 text `iso` gives for the same moment (`2026-01-05T06:00:00.123456+00:00`)."""
    return None if us is None else (EPOCH + timedelta(microseconds=us)).isoformat()
