"""Time as the bridge handles it, in one place: Airflow stores every time in UTC, and a time without an offset
(SQLite's text, a naive datetime) is read as UTC. `iso` gives the ISO-8601 text the model keeps, `epoch_ms`
the milliseconds DataHub's records carry, `utc` the moment itself (the run-history watermark)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


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
