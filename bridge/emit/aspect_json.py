"""Aspect -> JSON exactly as acryl-datahub's `aspect.to_obj()` writes it, without its two slow steps.

`to_obj()` goes through avrogen's global `AvroJsonConverter`, which first validates the whole aspect against
its Avro schema (walking every nested record and union a second time) and, for every field of every record,
decodes the field's schema default again. On a large manifest those two steps are most of a sync. This
converter is a subclass of DataHub's own: the same walk and the same output, with the defaults decoded once
per field and the aspect not validated again (the aspects are built through DataHub's typed classes, and
tests/unit/emit holds this output equal to `to_obj()` for every aspect kind the bridge emits).

It relies on avrogen's record walk (`_record_to_json`, `_generic_to_json`), which is not public: avrogen
(`avro-gen3`) is therefore a declared dependency, pinned to the release acryl-datahub pins.
"""

from __future__ import annotations

import collections
from typing import Any

from avrogen.avrojson import AvroJsonConverter, get_global_json_converter

_MISSING = object()


class _CachedDefaultsConverter(AvroJsonConverter):
    def __init__(self, like: AvroJsonConverter) -> None:
        super().__init__(
            use_logical_types=like.use_logical_types,
            logical_types=like.logical_types,
            fastavro=like.fastavro,
            schema_types=like.schema_types,
        )
        self._defaults: dict[str, list[tuple[str, Any, Any]]] = {}

    def _fields(self, writers_schema: Any) -> list[tuple[str, Any, Any]]:
        """(name, type, decoded default or _MISSING) per field, decoded once per record schema (by its full name,
        unique among DataHub's records)."""
        found = self._defaults.get(writers_schema.fullname)
        if found is None:
            decode: Any = self.from_json_object  # avrogen is untyped
            fields = writers_schema.fields
            found = [(f.name, f.type, decode(f.default, f.type) if f.has_default else _MISSING) for f in fields]
            self._defaults[writers_schema.fullname] = found
        return found

    def _record_to_json(self, data_obj: Any, writers_schema: Any) -> Any:
        result = collections.OrderedDict()
        for name, field_type, default in self._fields(writers_schema):
            if default is _MISSING:
                value = data_obj.get(name)
            else:
                value = data_obj.get(name, default)
                if value is None and default is None:
                    continue  # as avrogen: a field whose default is null is left out when null
            result[name] = self._generic_to_json(value, field_type)  # type: ignore[no-untyped-call]
        return result


_CONVERTER: _CachedDefaultsConverter | None = None


def aspect_to_obj(aspect: Any) -> Any:
    """What `aspect.to_obj()` returns (schema schemas are process-wide, so the converter is too)."""
    global _CONVERTER
    if _CONVERTER is None:
        _CONVERTER = _CachedDefaultsConverter(get_global_json_converter(False))
    return _CONVERTER._generic_to_json(aspect, type(aspect).RECORD_SCHEMA)  # type: ignore[no-untyped-call]
