"""What a dbt data test checks, in DataHub's terms, described as DataHub's dbt source describes it (acryl-datahub
1.7, `ingestion/source/dbt/dbt_tests.py`), so that both write the same `assertionInfo`:

- the generic tests DataHub has terms for (dbt's `not_null`, `unique`, `accepted_values`, `relationships`,
  three of `dbt_expectations`) get its scope, operator, aggregation and parameters; `relationships` says in
  words which column must be found where;
- any other test with a `column_name` argument is a column check, any other a rows check, both `_NATIVE_`,
  with the test's SQL (compiled, else raw) as their logic;
- every test keeps its arguments as native parameters, each value as Python's `str()` prints it;
- the description (DataHub's title for the assertion) is the test's name only when a person chose it: a
  generic test given `name:`. dbt's generated names (`unique_orders_id`, or `<30 chars>_<md5>` when 64 or
  longer, dbt-core's `synthesize_generic_test_names`) are left out, and so are singular tests' names.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bridge.model.dbt import DbtNode, TestInfo
from bridge.model.graph import (
    AssertionAggregation,
    AssertionCheck,
    AssertionOperator,
    AssertionParameter,
    AssertionScope,
)

_EXPECTATIONS = "dbt_expectations.expect_column_values_to_"
# Test (namespace.name) -> DataHub's operator and aggregation; all of them check a column.
_STANDARD: dict[str, tuple[AssertionOperator, AssertionAggregation]] = {
    "not_null": ("NOT_NULL", "IDENTITY"),
    "unique": ("EQUAL_TO", "UNIQUE_PROPOTION"),
    "accepted_values": ("IN", "IDENTITY"),
    "relationships": ("_NATIVE_", "IDENTITY"),
    f"{_EXPECTATIONS}not_be_null": ("NOT_NULL", "IDENTITY"),
    f"{_EXPECTATIONS}be_between": ("BETWEEN", "IDENTITY"),
    f"{_EXPECTATIONS}be_in_set": ("IN", "IDENTITY"),
}
_UNSAFE_IN_NAMES = re.compile(r"[^0-9a-zA-Z_]+")  # what dbt replaces in arguments when it names a test
_LONG_NAME = 64


def qualified_name(test: TestInfo) -> str:
    """`not_null`, or `dbt_utils.expression_is_true` for a package's generic test; "" for a singular test."""
    name = test.test_name or ""
    return f"{test.namespace}.{name}" if test.namespace else name


def check_of_test(node: DbtNode, test: TestInfo) -> AssertionCheck:
    """The check of a test node: standard terms where DataHub has them, the test's own SQL where not."""
    kwargs, name = test.kwargs, qualified_name(test)
    column = _text(kwargs.get("column_name"))
    native = {key: str(kwargs[key]) for key in sorted(kwargs)}  # an export's keys come sorted, a manifest's not
    standard = _STANDARD.get(name)
    if standard is None:
        scope: AssertionScope = "DATASET_COLUMN" if column else "DATASET_ROWS"
        return AssertionCheck(
            scope, "_NATIVE_", "_NATIVE_", node.name, column, logic=test.code, native_parameters=native
        )
    value, low, high = _parameters(name, kwargs)
    logic = _relationship(kwargs) if name == "relationships" else None
    return AssertionCheck(
        "DATASET_COLUMN", *standard, node.name, column, value, low, high, logic=logic, native_parameters=native
    )


def _parameters(name: str, kwargs: Mapping[str, Any]) -> tuple[AssertionParameter | None, ...]:
    """(value, min_value, max_value) of a standard check."""
    if name == "unique":
        return AssertionParameter("1.0", "NUMBER"), None, None
    if name in ("accepted_values", "relationships", f"{_EXPECTATIONS}be_in_set"):
        key = "value_set" if name.startswith(_EXPECTATIONS) else "values"
        return AssertionParameter(json.dumps(kwargs.get(key)), "SET"), None, None
    if name == f"{_EXPECTATIONS}be_between":
        bounds = (str(kwargs.get(key, "unknown")) for key in ("min_value", "max_value"))
        return None, *(AssertionParameter(bound, "NUMBER") for bound in bounds)
    return None, None, None


def _relationship(kwargs: Mapping[str, Any]) -> str | None:
    """`orders.customer_id referential integrity to customers.id`, from the test's arguments."""
    to, model = _text(kwargs.get("to")), _text(kwargs.get("model"))
    column, field = _text(kwargs.get("column_name")), _text(kwargs.get("field"))
    if not (to and model and column and field):
        return None
    whole_ref = re.match(r"^ref\(\'(.*)\'\)$", to)
    inner_ref = re.search(r"ref\(\'(.*)\'\)", model)
    target = whole_ref.group(1) if whole_ref else to
    source = inner_ref.group(1) if inner_ref else model
    return f"{source}.{column} referential integrity to {target}.{field}"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def chosen_title(node: DbtNode, test: TestInfo, upstream_ids: Sequence[str]) -> str | None:
    """The test's name when a person chose it: a generic test whose name dbt did not generate from any
    node it reads (a relationships test is named after its model, not the model it refers to)."""
    if not qualified_name(test):
        return None
    verdicts = [_generated_from(node.name, test, upstream) for upstream in upstream_ids]
    known = [verdict for verdict in verdicts if verdict is not None]
    return node.name if known and not any(known) else None


def _generated_from(name: str, test: TestInfo, upstream_id: str) -> bool | None:
    """Whether dbt would have named the test `name` when testing `upstream_id`; None: cannot tell."""
    if not test.kwargs:  # dbt Cloud's way of giving tests: no arguments, only a name's prefix to compare
        return _prefix_generated(name, test, upstream_id)
    identifiers = _identifiers(test.namespace, test.test_name or "", upstream_id)
    if not identifiers:
        return None
    candidates = {n for i in identifiers for iso in (False, True) for n in generated_test_names(i, test.kwargs, iso)}
    return name in candidates


def _prefix_generated(name: str, test: TestInfo, upstream_id: str) -> bool | None:
    test_name = (test.test_name or "").removeprefix("test_")
    namespaces = [test.namespace, None] if test.namespace else [None]
    identifiers = [i for ns in namespaces for i in _identifiers(ns, test_name, upstream_id)]
    if not identifiers:
        return None
    return any(
        name.startswith(f"{i}_") or re.fullmatch(re.escape(i[:30]) + r"_[0-9a-f]{32}", name) for i in identifiers
    )


def _identifiers(namespace: str | None, test_name: str, upstream_id: str) -> list[str]:
    """`<namespace>_<test>_<target>` for each target name dbt may have used for the node tested: a source
    is `<source>_<table>` (the test `source_<test>`), a versioned model `<name>_v<version>` or, through
    an unpinned ref, `<name>`."""
    parts = upstream_id.split(".")
    if not test_name or len(parts) < 3 or (parts[0] == "source" and len(parts) < 4):
        return []
    prefix = f"{namespace}_" if namespace else ""
    if parts[0] == "source":
        return [f"{prefix}source_{test_name}_{parts[2]}_{parts[3]}"]
    version = ".".join(parts[3:])
    targets = [f"{parts[2]}_{version}", parts[2]] if version else [parts[2]]
    return [f"{prefix}{test_name}_{target}" for target in targets]


def generated_test_names(identifier: str, kwargs: Mapping[str, Any], iso_dates: bool) -> tuple[str, str]:
    """The name and full name dbt gives a generic test: the identifier, then every argument but `model`
    (sorted by name; a list's or mapping's values one by one) with unsafe characters replaced; a full
    name of 64 characters or more gives the name `<identifier's first 30>_<md5 of the full name>`."""
    values: list[str] = []
    for key in sorted(kwargs):
        if key != "model":
            value = kwargs[key]
            parts = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]
            values += [_argument_text(part, iso_dates) for part in parts]
    full = f"{identifier}_" + "__".join(_UNSAFE_IN_NAMES.sub("_", value) for value in values)
    if len(full) < _LONG_NAME:
        return full, full
    return f"{identifier[:30]}_{hashlib.md5(full.encode()).hexdigest()}", full


def _argument_text(value: object, iso_dates: bool) -> str:
    """How dbt printed an argument; a YAML date reached dbt as a datetime (`2024-01-01 00:00:00`) but the
    manifest keeps it in ISO form, so `iso_dates` prints ISO strings back as datetimes."""
    if iso_dates and isinstance(value, str) and "T" in value:
        try:
            return str(datetime.fromisoformat(value))
        except ValueError:
            pass
    return str(value)
