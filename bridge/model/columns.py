"""`Columns`: many frozen records of one type held as columns, for the values an installation has hundreds of
thousands of (task instances, DAG runs). Pure: no I/O.

A record object costs ~130 bytes before its values (a slotted object of 12 fields), an int time 32, a float
24, so 750,000 task instances held as objects take ~300 MiB. Held here, each value is one slot of a typed
array, the array widened when a value does not fit: text as the code of the value in its column's table of
distinct strings (1, 2 or 4 bytes), ints in 1 to 8 bytes, times as 8-byte ints, floats as 8-byte doubles;
~30-40 bytes a task instance. A record is made only when it is read (iterating, indexing) and dropped by the
reader, so a consumer that goes through them once (the join) never holds them all. The column kinds:

- TEXT: `str | None`, each distinct string kept once (interned, so other values share it);
- INT: `int` (never None), in as few bytes as the values so far need (try numbers, map indexes);
- TIME: `int | None` (epoch microseconds), 8 bytes, None as the smallest int;
- FLOAT: `float | None`, 8 bytes, None as NaN (a NaN reads back as None);
- ANY: any object, by reference (a run's conf: rare, usually the one shared empty mapping).

A column whose values are all None holds no array at all (a task instance's `seen_us` outside a running DAG).
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields
from itertools import islice, repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias, TypeVar, overload

Kind = Literal["text", "int", "time", "float", "any"]
TEXT: Kind = "text"
INT: Kind = "int"
TIME: Kind = "time"
FLOAT: Kind = "float"
ANY: Kind = "any"

NO_TIME = -(2**63)  # None in a TIME column
_BATCH = 4096  # records encoded at a time: a streamed read holds one batch of them, not the whole input
# An array type, the next wider one, and the values it holds (codes of text: unsigned; ints: signed).
_WIDER = {"B": "H", "H": "I", "I": "Q", "b": "h", "h": "i", "i": "q"}
_RANGE = {code: (0, 2 ** (8 * array(code).itemsize)) for code in "BHIQ"} | {
    code: (-(2 ** (8 * array(code).itemsize - 1)), 2 ** (8 * array(code).itemsize - 1)) for code in "bhiq"
}

R = TypeVar("R")
if TYPE_CHECKING:
    Column: TypeAlias = array[Any] | list[Any] | None


class Columns(Sequence[R]):
    """An immutable sequence of records (a frozen dataclass, `record`), held as one column per field.

    Built from records (`Columns(records)`) or, without making the records, from tuples of their field values
    in field order (`from_values`). Equal to any tuple or list holding equal records in the same order.
    """

    __slots__ = ("_columns", "_length", "_words")
    record: ClassVar[type[Any]]  # the record type (a dataclass), called with the field values in order
    kinds: ClassVar[tuple[Kind, ...]]  # one per field of `record`, in order
    _values_of: ClassVar[Callable[[Any], tuple[Any, ...]]]

    def __init_subclass__(cls) -> None:
        names = [f.name for f in fields(cls.record)]
        if len(names) != len(cls.kinds):
            raise TypeError(f"{cls.__name__}: {len(cls.kinds)} column kinds for {len(names)} fields")
        cls._values_of = staticmethod(attrgetter(*names))

    def __init__(self, records: Iterable[R] = ()) -> None:
        self._fill(map(type(self)._values_of, records))

    @classmethod
    def from_values(cls: type[C], rows: Iterable[tuple[Any, ...]]) -> C:
        """The records whose field values (in field order) `rows` yields, encoded a batch at a time."""
        built = cls.__new__(cls)
        built._fill(iter(rows))
        return built

    def _fill(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self._length = 0
        self._columns: list[Column] = [None] * len(self.kinds)
        tables: list[dict[Any, int]] = [{None: 0} for _ in self.kinds]  # text -> its code, while building
        while batch := list(islice(rows, _BATCH)):
            if any(len(values) != len(self.kinds) for values in batch):
                raise ValueError(f"{type(self).__name__}: a record has {len(self.kinds)} fields")
            for position, values in enumerate(zip(*batch, strict=True)):
                self._extend(position, values, tables[position])
            self._length += len(batch)
        self._words: list[tuple[Any, ...]] = [tuple(table) for table in tables]  # code -> text, once built

    def _extend(self, position: int, values: tuple[Any, ...], table: dict[Any, int]) -> None:
        kind, column = self.kinds[position], self._columns[position]
        if column is None and kind != INT and all(v is None for v in values):
            return  # still all None: no array yet
        if column is None:
            column = self._columns[position] = _filled(kind, self._length)
        if kind == TEXT:
            self._columns[position] = _text_codes(column, table, values)  # type: ignore[arg-type]
        elif kind == TIME:
            column.extend([NO_TIME if v is None else v for v in values])
        elif kind == FLOAT:
            column.extend([math.nan if v is None else v for v in values])
        elif kind == INT:
            self._columns[position] = _widened(column, values)  # type: ignore[arg-type]
        else:
            column.extend(values)

    def _column(self, position: int) -> Iterable[Any]:
        """The values of one column, decoded, in order."""
        kind, column = self.kinds[position], self._columns[position]
        if column is None:
            return repeat(None, self._length)
        if kind == TEXT:
            return map(self._words[position].__getitem__, column)
        if kind == TIME:
            return (None if v == NO_TIME else v for v in column)
        if kind == FLOAT:
            return (None if v != v else v for v in column)
        return column

    def _value(self, position: int, index: int) -> Any:
        kind, column = self.kinds[position], self._columns[position]
        value = None if column is None else column[index]
        if kind == TEXT and value is not None:
            return self._words[position][value]
        if (kind == TIME and value == NO_TIME) or (kind == FLOAT and value != value):
            return None
        return value

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[R]:
        return map(self.record, *(self._column(p) for p in range(len(self.kinds))))

    @overload
    def __getitem__(self, index: int) -> R: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[R, ...]: ...

    def __getitem__(self, index: int | slice) -> R | tuple[R, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self._length)))
        if not -self._length <= index < self._length:
            raise IndexError(f"{type(self).__name__} index {index} out of range")
        index %= self._length
        record: R = self.record(*(self._value(p, index) for p in range(len(self.kinds))))
        return record

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Columns | tuple | list):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # compared by value, like the tuple it stands for

    def __repr__(self) -> str:
        shown = ", ".join(map(repr, islice(self, 3)))
        more = f", ... ({self._length:,} in all)" if self._length > 3 else ""
        return f"{type(self).__name__}([{shown}{more}])"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self).from_values, (list(map(type(self)._values_of, self)),)


C = TypeVar("C", bound=Columns[Any])


def _filled(kind: Kind, length: int) -> array[Any] | list[Any]:
    """A column of `length` Nones (the values before its first one that is not None)."""
    if kind == TEXT:
        return array("B", bytes(length))
    if kind == TIME:
        return array("q", [NO_TIME]) * length
    if kind == FLOAT:
        return array("d", [math.nan]) * length
    return array("b") if kind == INT else [None] * length


def _text_codes(column: array[int], table: dict[Any, int], values: tuple[Any, ...]) -> array[int]:
    """`column` with the codes of `values` appended; a new value gets the next code, its string interned."""
    codes = []
    for value in values:
        code = table.get(value)
        if code is None:
            code = table[sys.intern(value) if type(value) is str else value] = len(table)
        codes.append(code)
    return _widened(column, codes)


def _widened(column: array[int], values: Sequence[int]) -> array[int]:
    """`column` with `values` appended, in a wider array when they do not fit in its type."""
    lowest, highest = min(values), max(values)
    while not _RANGE[column.typecode][0] <= lowest <= highest < _RANGE[column.typecode][1]:
        if column.typecode not in _WIDER:
            raise OverflowError(f"{lowest} or {highest} does not fit in 64 bits")
        column = array(_WIDER[column.typecode], column)
    column.extend(values)
    return column
