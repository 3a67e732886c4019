"""A DAG run's `conf` as data: JSON on Airflow 3 (decoded by the driver, or text on SQLite), a pickle on
Airflow 2. A pickle is never unpickled as such: a restricted unpickler rebuilds only plain data (dicts, lists,
text, numbers, dates); anything else in it (an object, a function reference) leaves the conf unread, so a
crafted row cannot run code in the bridge."""

from __future__ import annotations

import codecs
import datetime
import io
import pickle
from typing import Any

import orjson

# The only globals a conf pickle may name: types of plain values.
_PLAIN = {
    ("datetime", "datetime"): datetime.datetime,
    ("datetime", "date"): datetime.date,
    ("datetime", "time"): datetime.time,
    ("datetime", "timedelta"): datetime.timedelta,
    ("datetime", "timezone"): datetime.timezone,
    ("_codecs", "encode"): codecs.encode,  # how protocols 0-2 spell bytes (a date's state)
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
}


class UnreadableConfError(ValueError):
    """The conf holds something other than plain data."""


class _PlainData(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        found = _PLAIN.get((module, name))
        if found is None:
            raise UnreadableConfError(f"it names {module}.{name}")
        return found


def run_conf(value: Any) -> dict[str, Any] | None:
    """The conf as a dict; {} when empty; None when it cannot be read as plain data."""
    if value is None:
        return {}
    if isinstance(value, memoryview):
        value = value.tobytes()
    try:
        if isinstance(value, bytes) and value[:1] == b"\x80":  # a pickle (Airflow 2's PickleType)
            value = _PlainData(io.BytesIO(value)).load()
        elif isinstance(value, str | bytes):
            value = orjson.loads(value)
    except (UnreadableConfError, pickle.UnpicklingError, orjson.JSONDecodeError, EOFError, ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None
