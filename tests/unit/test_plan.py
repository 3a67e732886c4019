from __future__ import annotations

import subprocess
import sys

import orjson

from bridge.config import BridgeConfig
from bridge.plan import plan_as_json, plan_as_text, plan_project
from bridge.read.dbt.manifest import read_manifest
from tests.conftest import REPO, SNOWFLAKE_MANIFEST, assert_golden

GOLDEN = REPO / "tests" / "golden" / "plan"


def test_plan_of_the_bundled_project_matches_golden(update_golden: bool) -> None:
    plan = plan_project(read_manifest(SNOWFLAKE_MANIFEST), BridgeConfig())
    as_json = orjson.dumps(plan_as_json([plan]), option=orjson.OPT_INDENT_2).decode() + "\n"
    assert_golden(GOLDEN / "bundled_snowflake.json", as_json.replace(str(REPO) + "/", ""), update_golden)
    assert_golden(GOLDEN / "bundled_snowflake.txt", plan_as_text([plan]).replace(str(REPO) + "/", ""), update_golden)


def test_dataset_urns_follow_datahub_conventions() -> None:
    plan = plan_project(read_manifest(SNOWFLAKE_MANIFEST), BridgeConfig(env="DEV", platform_instance="acme"))
    by_id = {d.unique_id: d for d in plan.datasets}
    securities = by_id["model.finance.dim_securities"]
    assert securities.dbt_urn == "urn:li:dataset:(urn:li:dataPlatform:dbt,analytics.marts.securities,DEV)"
    assert (
        securities.warehouse_urn == "urn:li:dataset:(urn:li:dataPlatform:snowflake,acme.analytics.marts.securities,DEV)"
    )
    source = by_id["source.finance.fred.observations"]
    assert source.dbt_urn == "urn:li:dataset:(urn:li:dataPlatform:dbt,analytics.raw.observations,DEV)"
    assert source.warehouse_urn is not None and "analytics.raw.raw_fred_observations" in source.warehouse_urn
    ephemeral = by_id["model.finance.int_fred_series_pivoted"]
    assert ephemeral.warehouse_urn is None and ephemeral.relation is None


def test_plan_command_json_lists_every_project() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bridge",
            "plan",
            "--format",
            "json",
            "--manifest",
            str(SNOWFLAKE_MANIFEST),
            "--manifest",
            str(REPO / "dbt_project" / "artifacts" / "postgres" / "manifest.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    projects = orjson.loads(result.stdout)["projects"]
    assert [p["adapter_type"] for p in projects] == ["snowflake", "postgres"]
    postgres = {d["unique_id"]: d for d in projects[1]["datasets"]}
    assert postgres["model.finance.dim_securities"]["warehouse_urn"] == (
        "urn:li:dataset:(urn:li:dataPlatform:postgres,bridge_dbt.marts.securities,PROD)"
    )
