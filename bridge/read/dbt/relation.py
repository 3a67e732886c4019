"""Turning dbt's `relation_name` and node fields into an unquoted `Relation`, dialect-aware."""

from __future__ import annotations

from bridge.model.dbt import Relation

# Adapters whose relations quote identifiers with backticks (their `Relation.quote_character`); every other
# adapter uses double quotes (dbt's default: Postgres, Snowflake, Redshift, Trino, Athena, DuckDB, ...).
_BACKTICK_ADAPTERS = frozenset(
    {"bigquery", "databricks", "spark", "hive", "mysql", "mariadb", "tidb", "singlestore", "starrocks", "doris",
     "clickhouse"}
)  # fmt: skip


def quote_char(adapter_type: str) -> str:
    return "`" if adapter_type.lower() in _BACKTICK_ADAPTERS else '"'


def split_relation_name(text: str, adapter_type: str) -> list[str]:
    """`"db"."my.schema".tbl` -> ['db', 'my.schema', 'tbl']; a doubled quote inside quotes is one quote."""
    quote = quote_char(adapter_type)
    parts: list[str] = []
    current: list[str] = []
    in_quotes = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == quote and in_quotes and text[i + 1 : i + 2] == quote:
            current.append(quote)
            i += 1
        elif char == quote:
            in_quotes = not in_quotes
        elif char == "." and not in_quotes:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    if in_quotes:
        raise ValueError(f"unbalanced {quote} in relation name {text!r}")
    parts.append("".join(current))
    return [p.strip() for p in parts]


def parse_relation_name(text: str, adapter_type: str) -> Relation:
    """A relation from dbt's rendered `relation_name` (two or three parts)."""
    parts = split_relation_name(text, adapter_type)
    if len(parts) == 3 and all(parts[1:]):
        return Relation(parts[0] or None, parts[1], parts[2])
    if len(parts) == 2 and all(parts):
        return Relation(None, parts[0], parts[1])
    raise ValueError(f"relation name {text!r} does not have the form [database.]schema.identifier")


def relation_from_parts(database: str | None, schema: str | None, identifier: str | None) -> Relation | None:
    """A relation from the node's own fields; None when schema or identifier is missing."""
    if not schema or not identifier:
        return None
    return Relation(database or None, schema, identifier)
