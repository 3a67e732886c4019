import pytest

from bridge.model.dbt import Relation
from bridge.read.dbt.relation import parse_relation_name, split_relation_name


@pytest.mark.parametrize(
    ("text", "adapter", "expected"),
    [
        ("ANALYTICS.staging.stg_orders", "snowflake", Relation("ANALYTICS", "staging", "stg_orders")),
        ('"bridge_dbt"."staging"."stg_orders"', "postgres", Relation("bridge_dbt", "staging", "stg_orders")),
        ('"db"."my.schema"."t ""quoted"""', "postgres", Relation("db", "my.schema", 't "quoted"')),
        ("`proj`.`dataset`.`table`", "bigquery", Relation("proj", "dataset", "table")),
        ("`main`.`default`.`orders`", "databricks", Relation("main", "default", "orders")),
        ('"schema"."table"', "postgres", Relation(None, "schema", "table")),
        ("schema.table", "spark", Relation(None, "schema", "table")),
        ('"awsdatacatalog"."fred"."obs"', "athena", Relation("awsdatacatalog", "fred", "obs")),  # dbt-athena: "
        ("`fred`.`obs`", "mysql", Relation(None, "fred", "obs")),
        ("`analytics`.`events`", "clickhouse", Relation(None, "analytics", "events")),
    ],
)
def test_relation_names_are_unquoted_by_dialect(text: str, adapter: str, expected: Relation) -> None:
    assert parse_relation_name(text, adapter) == expected


def test_backticks_are_not_quotes_for_double_quote_dialects() -> None:
    assert split_relation_name("a.`b.c`", "postgres") == ["a", "`b", "c`"]


@pytest.mark.parametrize("text", ['"db"."schema', "just_a_name", "a.b.c.d", "a..c"])
def test_malformed_relation_names_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="relation name"):
        parse_relation_name(text, "postgres")


def test_relations_match_case_insensitively() -> None:
    assert Relation("ANALYTICS", "STAGING", "T").matches(Relation("analytics", "staging", "t"))
    assert not Relation("ANALYTICS", "STAGING", "T").matches(Relation(None, "staging", "t"))
