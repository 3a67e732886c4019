"""The bundled project holds the cases where guessing a table from a model's name prefix goes wrong."""

from __future__ import annotations

import pytest

from bridge.model.dbt import DbtProject, Relation
from bridge.read.dbt.manifest import read_manifest
from bridge.read.dbt.run_results import read_catalog, read_run_results
from tests.conftest import POSTGRES_ARTIFACTS, SNOWFLAKE_MANIFEST


@pytest.fixture(scope="module")
def snowflake() -> DbtProject:
    return read_manifest(SNOWFLAKE_MANIFEST)


@pytest.mark.parametrize(
    ("unique_id", "relation"),
    [
        # a stg_ model configured into the mart schema
        (
            "model.finance.stg_portfolio_rebalancing_targets",
            Relation("ANALYTICS", "marts", "stg_portfolio_rebalancing_targets"),
        ),
        # an alias: the table is not named after the model
        ("model.finance.dim_securities", Relation("ANALYTICS", "marts", "securities")),
        # a database set for the Snowflake target only
        ("model.finance.fct_portfolio_rebalancing", Relation("FINANCE", "marts", "fct_portfolio_rebalancing")),
        # the custom generate_schema_name puts fct_ into its own schema
        ("model.finance.fct_fred_observations", Relation("ANALYTICS", "fred", "fct_fred_observations")),
        # a versioned model: one relation per version
        ("model.finance.dim_employees.v1", Relation("ANALYTICS", "marts", "dim_employees_v1")),
        ("model.finance.dim_employees.v2", Relation("ANALYTICS", "marts", "dim_employees_v2")),
        # seeds, snapshots and sources by physical identifier
        ("seed.finance.country_codes", Relation("ANALYTICS", "reference", "country_codes")),
        ("snapshot.finance.securities_snapshot", Relation("ANALYTICS", "snapshots", "securities_snapshot")),
        ("source.finance.fred.observations", Relation("ANALYTICS", "raw", "raw_fred_observations")),
    ],
)
def test_relations_where_a_prefix_guess_is_wrong(snowflake: DbtProject, unique_id: str, relation: Relation) -> None:
    assert snowflake.nodes[unique_id].relation == relation


def test_ephemeral_model_has_no_relation_but_a_location(snowflake: DbtProject) -> None:
    node = snowflake.nodes["model.finance.int_fred_series_pivoted"]
    assert node.is_ephemeral and node.relation is None
    assert node.location is not None and node.location.identifier == "int_fred_series_pivoted"


def test_versions_meta_groups_and_access(snowflake: DbtProject) -> None:
    v1, v2 = snowflake.nodes["model.finance.dim_employees.v1"], snowflake.nodes["model.finance.dim_employees.v2"]
    assert (v1.version, v2.version, v2.latest_version) == ("1", "2", "2")
    assert v2.display_name == "dim_employees.v2"
    assert any(n.meta.get("domain") for n in snowflake.of_type("model"))
    assert {g.name for g in snowflake.groups.values()} >= {"fred", "markets", "portfolio", "hr", "core"}
    assert all(g.owner.name or g.owner.email for g in snowflake.groups.values())
    assert {n.access for n in snowflake.of_type("model")} >= {"public", "protected"}


def test_sources_keep_the_physical_identifier_apart_from_the_logical_name(snowflake: DbtProject) -> None:
    sources = snowflake.of_type("source")
    assert sources and all(
        (s.relation and s.relation.identifier == f"raw_{s.source_name}_{s.name}")
        or (s.relation and s.relation.identifier == f"raw_{s.name}")
        for s in sources
    )
    observations = snowflake.nodes["source.finance.fred.observations"]
    assert (observations.name, observations.display_name) == ("observations", "fred.observations")


def test_postgres_artifacts_agree_with_the_manifest() -> None:
    project = read_manifest(POSTGRES_ARTIFACTS / "manifest.json")
    results = read_run_results(POSTGRES_ARTIFACTS / "run_results.json")
    catalog = read_catalog(POSTGRES_ARTIFACTS / "catalog.json")
    assert project.adapter_type == "postgres"
    assert results.results and {r.unique_id for r in results.results} <= set(project.nodes)
    assert results.command == "build"
    failed = {r.unique_id for r in results.results if r.status == "fail"}
    assert failed == {"test.finance.assert_index_months_have_full_trading_days"}  # on purpose: dbt_project/README.md
    assert {r.status for r in results.results} <= {"success", "pass", "no-op", "fail"}
    materialized = {uid for uid, n in project.nodes.items() if n.relation is not None and n.resource_type != "source"}
    assert materialized <= set(catalog), "every built relation is in the catalog"
    table = catalog["model.finance.dim_securities"]
    assert table.columns and [c.index for c in table.columns] == sorted(c.index for c in table.columns)
