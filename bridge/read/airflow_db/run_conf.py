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


# A conf is a few settings: more nesting or more values than this is not one (and a pickle can make a cycle,
# or a shared reference repeated exponentially, out of a few hundred bytes).
MAX_DEPTH = 20
MAX_VALUES = 10_000


def run_conf(value: Any) -> dict[str, Any] | None:
    """The conf as a dict of plain JSON-like values (a tree: no cycle, no shared branch); {} when empty;
    None when it cannot be read as such. Nothing in a row can stop the read."""
    if value is None:
        return {}
    if isinstance(value, memoryview):
        value = value.tobytes()
    try:
        if isinstance(value, bytes) and value[:1] == b"\x80":  # a pickle (Airflow 2's PickleType)
            value = _PlainData(io.BytesIO(value)).load()
        elif isinstance(value, str | bytes):
            value = orjson.loads(value)
        return _plain(value, 0, [0]) if isinstance(value, dict) else None
    except Exception:  # whatever a crafted row makes the allowed constructors raise: unread, not fatal
        return None


def _plain(value: Any, depth: int, count: list[int]) -> Any:
    """A copy as JSON-like data (sets become lists, dates ISO text); UnreadableConfError past the limits."""
    count[0] += 1
    if depth > MAX_DEPTH or count[0] > MAX_VALUES:
        raise UnreadableConfError("too deep or too large")
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1, count) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, depth + 1, count) for v in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise UnreadableConfError(f"holds a {type(value).__name__}")
