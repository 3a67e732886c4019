"""Aspect -> the JSON DataHub writes for it, `pre_json_transform(aspect.to_obj())`, in one walk.

DataHub's way takes three: `to_obj()` goes through avrogen's global `AvroJsonConverter`, which first validates
the whole aspect against its Avro schema, then walks it again decoding every field's schema default each time,
and `pre_json_transform` walks the result a third time (dropping nulls, renaming union keys from
`com.linkedin.pegasus2avro.` to `com.linkedin.`). On a large manifest that is most of a sync. Here each Avro
schema is compiled once into a function that writes the final JSON directly, with the same rules:

- a record: its fields in schema order, a missing field as its default, a null left out; a record with a
  `fieldDiscriminator` (a union with aliases) as `{discriminator: value}`;
- a union: null as null; the branch named by the value's record schema, or the only branch besides null; a
  value of any other union (several primitive branches) goes through avrogen and `pre_json_transform`
  themselves; wrapped as `{branch name: value}` inside arrays and when the union is ambiguous;
- a map: nulls left out (a one-key map under a `com.linkedin.pegasus2avro.` key renamed, as DataHub does);
- bytes as text (UTF-8), everything else as it is.

The aspect is not validated again: it was built through DataHub's typed classes. tests/unit/emit holds this
output equal to DataHub's for every aspect kind the bridge emits. It reads avrogen's schemas, its union rules
and a record's dict (`_is_unambiguous_union`, `_fullname`, `_inner_dict`: not public): avrogen (`avro-gen3`)
is therefore a declared dependency, pinned to the release acryl-datahub pins.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from avrogen.avrojson import AvroJsonConverter, get_global_json_converter
from datahub.emitter.serialization_helper import pre_json_transform

Convert = Callable[[Any], Any]
Field = tuple[str, Convert, Any]  # name, conversion, default (None when the field has none)

_AVRO_PREFIX, _DATAHUB_PREFIX = "com.linkedin.pegasus2avro.", "com.linkedin."


def _as_is(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def _record(fields: list[Field], value: Any) -> dict[str, Any]:
    found = {}
    stored = value._inner_dict  # what `DictWrapper.get` reads: a method call per field was a third of the walk
    for name, convert, default in fields:
        item = stored.get(name, default)
        if item is not None:
            item = convert(item)
            if item is not None:
                found[name] = item
    return found


def _discriminated(fields: list[Field], value: Any) -> dict[str, Any]:
    found = _record(fields, value)
    field = found.get("fieldDiscriminator")
    return {field: found.get(field)} if field is not None else found


def _array(convert: Convert, value: Any) -> list[Any]:
    return [convert(item) for item in value]


def _map(convert: Convert, value: Any) -> dict[str, Any]:
    found = {key: convert(item) for key, item in value.items()}
    if len(found) == 1:
        ((key, item),) = found.items()
        if key.startswith(_AVRO_PREFIX):
            return {key.replace(_AVRO_PREFIX, _DATAHUB_PREFIX, 1): item}
    return {key: item for key, item in found.items() if item is not None}


Branch = tuple[Convert, str]  # conversion, the key that names the branch when the value is wrapped


def _union(branches: dict[str, Branch], only: Branch | None, wrap: bool, slow: Convert, value: Any) -> Any:
    if value is None:
        return None
    schema = getattr(type(value), "RECORD_SCHEMA", None)
    branch = branches.get(schema.fullname) if schema is not None else only
    if branch is None:
        return slow(value)
    convert, key = branch
    return {key: convert(value)} if wrap else convert(value)


class _Compiler:
    """Avro schema -> conversion function, each record schema compiled once (by its full name, unique among
    DataHub's records); a recursive record refers to its own function, filled in once compiled."""

    def __init__(self, avrogen: AvroJsonConverter) -> None:
        self.avrogen = avrogen
        self.records: dict[str, Convert] = {}

    def compile(self, schema: Any, in_array: bool = False) -> Convert:
        kind = schema.type
        if kind in ("record", "error"):
            return self.record(schema)
        if kind == "array":
            return partial(_array, self.compile(schema.items, in_array=True))
        if kind == "map":
            return partial(_map, self.compile(schema.values))
        if kind in ("union", "error_union"):
            return self.union(schema, in_array)
        return _as_is

    def record(self, schema: Any) -> Convert:
        found = self.records.get(schema.fullname)
        if found is None:
            fields: list[Field] = []
            shape = _discriminated if any(f.name == "fieldDiscriminator" for f in schema.fields) else _record
            found = self.records[schema.fullname] = partial(shape, fields)
            fields += [(f.name, self.compile(f.type), self.default(f)) for f in schema.fields]
        return found

    def default(self, field: Any) -> Any:
        decode: Any = self.avrogen.from_json_object  # avrogen is untyped
        return decode(field.default, field.type) if field.has_default else None

    def union(self, schema: Any, in_array: bool) -> Convert:
        named = [b for b in schema.schemas if b.type in ("record", "error")]
        branches = {b.fullname: (self.compile(b), self.key(b)) for b in named}
        others = [b for b in schema.schemas if b.type != "null"]
        only = (self.compile(others[0]), self.key(others[0])) if len(others) == 1 else None
        ambiguous = not self.avrogen._is_unambiguous_union(schema)
        slow = partial(self.through_avrogen, schema, in_array)
        return partial(_union, branches, only, in_array or ambiguous, slow)

    def through_avrogen(self, schema: Any, in_array: bool, value: Any) -> Any:
        return pre_json_transform(self.avrogen._union_to_json(value, schema, in_array))  # type: ignore[no-untyped-call]

    def key(self, branch: Any) -> str:
        """A union branch's key as DataHub writes it: a named schema's full name (`com.linkedin.pegasus2avro.x.Y`
        as `com.linkedin.x.Y`), else the type (`string`)."""
        name: str = self.avrogen._fullname(branch)  # type: ignore[no-untyped-call]
        return name.replace(_AVRO_PREFIX, _DATAHUB_PREFIX, 1) if name.startswith(_AVRO_PREFIX) else name


_COMPILER: _Compiler | None = None


def aspect_to_json(aspect: Any) -> Any:
    """What `pre_json_transform(aspect.to_obj())` returns (schemas are process-wide, so the compiled
    functions are too)."""
    global _COMPILER
    if _COMPILER is None:
        _COMPILER = _Compiler(get_global_json_converter(False))
    return _COMPILER.record(type(aspect).RECORD_SCHEMA)(aspect)
