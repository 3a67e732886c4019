"""A dbt entity's columns as DataHub's dbt source writes them: lower-cased for a Snowflake project by default
(its `convert_column_urns_to_lowercase`), as they are for other adapters, either way when configured."""

from __future__ import annotations

import pytest

from bridge.config import build_config
from bridge.emit.aspects import EmitOptions
from bridge.emit.datasets import dataset_mcps
from bridge.model.graph import Column, Dataset, DatasetKey

COLUMNS = (Column("CUSTOMER_ID", "NUMBER"), Column("Order_Date", "DATE"))


def field_paths(adapter: str, options: EmitOptions) -> list[str]:
    dataset = Dataset(DatasetKey("dbt", "db.marts.orders"), "orders", "Model", dbt_unique_id="model.p.orders",
                      properties={"dbt_adapter": adapter}, columns=COLUMNS)  # fmt: skip
    (schema,) = [m.aspect for m in dataset_mcps(dataset, options) if m.aspectName == "schemaMetadata"]
    return [f.fieldPath for f in schema.fields]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("adapter", "setting", "expected"),
    [
        ("snowflake", None, ["customer_id", "order_date"]),
        ("postgres", None, ["CUSTOMER_ID", "Order_Date"]),
        ("snowflake", False, ["CUSTOMER_ID", "Order_Date"]),
        ("postgres", True, ["customer_id", "order_date"]),
    ],
)
def test_column_names_are_lowercased_as_the_dbt_source_does(
    adapter: str, setting: bool | None, expected: list[str]
) -> None:
    assert field_paths(adapter, EmitOptions(lowercase_columns=setting)) == expected


def test_a_switched_dbt_source_recipe_keeps_its_column_setting() -> None:
    config = build_config({"manifest_path": "m.json", "convert_column_urns_to_lowercase": False})
    assert config.lowercase_columns is False and config.dbt.manifests == ["m.json"]
