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


def test_credentials_in_an_asset_uri_never_reach_a_name_or_a_report() -> None:
    from bridge.join.asset_uris import without_credentials
    from bridge.join.assets import AssetResolver
    from bridge.join.settings import JoinSettings

    assert without_credentials("ftp://bob:Hunter2pw@files.example/x.csv") == "ftp://files.example/x.csv"
    assert without_credentials("s3://bucket/key@v1") == "s3://bucket/key@v1"
    key, problem = AssetResolver.over([], JoinSettings()).resolve("ftp://bob:Hunter2pw@files.example/x.csv")
    assert key.name == "ftp://files.example/x.csv"
    assert problem is not None and "Hunter2pw" not in problem.location + problem.message
