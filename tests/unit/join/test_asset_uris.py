import pytest

from bridge.join.asset_uris import ParsedAsset, parse_asset_uri


@pytest.mark.parametrize(
    ("uri", "platform", "name"),
    [
        ("snowflake://acme/ANALYTICS/RAW/RAW_FRED_OBSERVATIONS", "snowflake", "ANALYTICS.RAW.RAW_FRED_OBSERVATIONS"),
        ("snowflake://acme/ANALYTICS.RAW.RAW_FRED_OBSERVATIONS", "snowflake", "ANALYTICS.RAW.RAW_FRED_OBSERVATIONS"),
        ("postgres://127.0.0.1:5432/bridge_dbt/marts/securities", "postgres", "bridge_dbt.marts.securities"),
        ("postgresql://db:5432/bridge_dbt/marts/securities", "postgres", "bridge_dbt.marts.securities"),
        # Cosmos on Airflow 2: the OpenLineage name, dotted and URL-quoted
        (
            "postgres://127.0.0.1:5432/bridge_dbt.marts.fct_index_performance",
            "postgres",
            "bridge_dbt.marts.fct_index_performance",
        ),
        ("postgres://127.0.0.1:5432/bridge_dbt.marts.my%20table", "postgres", "bridge_dbt.marts.my table"),
        ("redshift://c1.eu-west-1:5439/dev/public/orders", "redshift", "dev.public.orders"),
        ("bigquery://my-project/dataset/table", "bigquery", "my-project.dataset.table"),
        ("databricks://adb-1.azuredatabricks.net/main/default/orders", "databricks", "main.default.orders"),
        ("s3://acme-landing/markets/index_prices.csv", "s3", "acme-landing/markets/index_prices.csv"),
        ("gs://bucket/path/file.parquet", "gcs", "bucket/path/file.parquet"),
        ("file:///data/exports/report.csv", "file", "/data/exports/report.csv"),
    ],
)
def test_known_schemes(uri: str, platform: str, name: str) -> None:
    parsed = parse_asset_uri(uri)
    assert isinstance(parsed, ParsedAsset)
    assert (parsed.platform, parsed.name) == (platform, name)


@pytest.mark.parametrize(
    "uri", ["x-custom://thing", "snowflake://acme/ONLY_TWO/PARTS", "postgres://h/db", "s3:///no-bucket", "plain-name"]
)
def test_unknown_or_malformed_uris_are_not_guessed(uri: str) -> None:
    assert parse_asset_uri(uri) is None
