"""Task ids and selectors as real Cosmos releases render them (see tests/fixtures/airflow/README.md)."""

from __future__ import annotations

import pytest

from bridge.join.cosmos_tasks import match_cosmos_tasks
from bridge.model.dbt import DbtProject
from tests.unit.join.conftest import cosmos, dag, plain

# (task id, operator, template fields, expected node, expected role): the first block is what Cosmos 1.15
# wrote in the fixture DAGs; the second has no selector, so the task-id grammar decides.
CASES = [
    (
        "dim_country.run",
        "DbtRunLocalOperator",
        {"select": "fqn:finance.marts.core.dim_country"},
        "model.finance.dim_country",
        "run",
    ),
    ("dim_country.test", "DbtTestLocalOperator", {"select": "dim_country"}, "model.finance.dim_country", "test"),
    (
        "dim_employees_v2.run",
        "DbtRunLocalOperator",
        {"select": "fqn:finance.marts.hr.dim_employees.v2"},
        "model.finance.dim_employees.v2",
        "run",
    ),
    (
        "dim_employees_v1.test",
        "DbtTestLocalOperator",
        {"select": "dim_employees.v1"},
        "model.finance.dim_employees.v1",
        "test",
    ),
    (
        "transform.fct_index_performance_model_build",
        "DbtBuildLocalOperator",
        {"select": "fqn:finance.marts.markets.fct_index_performance", "exclude": "resource_type:seed"},
        "model.finance.fct_index_performance",
        "build",
    ),
    (
        "raw_employees_seed",
        "DbtSeedLocalOperator",
        {"select": "fqn:finance.raw_employees"},
        "seed.finance.raw_employees",
        "seed",
    ),
    (
        "securities_snapshot_snapshot",
        "DbtSnapshotLocalOperator",
        {"select": "fqn:finance.securities_snapshot"},
        "snapshot.finance.securities_snapshot",
        "snapshot",
    ),
    (
        "stg_fred_series_run",
        "DbtRunLocalOperator",
        {"models": "stg_fred_series"},
        "model.finance.stg_fred_series",
        "run",
    ),
    (
        "stg_securities_run",
        "DbtRunLocalOperator",
        {"select": ["+stg_securities"]},
        "model.finance.stg_securities",
        "run",
    ),
    (
        "fred_observations_source",
        "DbtSourceLocalOperator",
        {"select": "source:fred.observations"},
        "source.finance.fred.observations",
        "source",
    ),
    # Cosmos 1.11.1 (Airflow 3.1.3): bare names; Cosmos 1.15.1 on Airflow 2.11 with PRE_DBT_FUSION: models=
    (
        "fct_index_performance.run",
        "DbtRunLocalOperator",
        {"select": "fct_index_performance"},
        "model.finance.fct_index_performance",
        "run",
    ),
    (
        "dim_employees_v2.run",
        "DbtRunLocalOperator",
        {"select": "dim_employees.v2"},
        "model.finance.dim_employees.v2",
        "run",
    ),
    (
        "fct_portfolio_rebalancing.run",
        "DbtRunLocalOperator",
        {"models": "fqn:finance.marts.portfolio.fct_portfolio_rebalancing"},
        "model.finance.fct_portfolio_rebalancing",
        "run",
    ),
    # no selector: Cosmos' task-id grammar
    ("stg_employees_run", "DbtRunLocalOperator", {}, "model.finance.stg_employees", "run"),
    ("transform.stg_index_prices.run", "DbtRunLocalOperator", {}, "model.finance.stg_index_prices", "run"),
    ("marts.core.dim_date_run", "DbtRunLocalOperator", {}, "model.finance.dim_date", "run"),
    ("dim_employees_v2_run", "DbtRunLocalOperator", {}, "model.finance.dim_employees.v2", "run"),
    ("transform.dim_securities_model_build", "DbtBuildLocalOperator", {}, "model.finance.dim_securities", "build"),
    ("country_codes.seed", "DbtSeedLocalOperator", {}, "seed.finance.country_codes", "seed"),
]


@pytest.mark.parametrize(("task_id", "operator", "fields", "node_id", "role"), CASES, ids=[c[0] for c in CASES])
def test_cosmos_tasks_match_their_node(
    postgres_project: DbtProject, task_id: str, operator: str, fields: dict[str, object], node_id: str, role: str
) -> None:
    [match] = match_cosmos_tasks({"d": dag("d", cosmos(task_id, operator, **fields))}, [postgres_project])
    assert (match.node_id, match.role, match.project_name) == (node_id, role, "finance")


@pytest.mark.parametrize("task_id", ["dbt_project_test", "transform.finance_test"])
def test_after_all_project_test_task_is_recognised(postgres_project: DbtProject, task_id: str) -> None:
    # Cosmos names it after the project folder (`dbt_project_test` in the fixtures), not the project.
    [match] = match_cosmos_tasks({"d": dag("d", cosmos(task_id, "DbtTestLocalOperator"))}, [postgres_project])
    assert (match.role, match.node_id, match.project_name) == ("project-test", None, "finance")


def test_after_all_test_task_with_a_selector_tests_that_model(postgres_project: DbtProject) -> None:
    task = cosmos("dbt_project_test", "DbtTestLocalOperator", select=["+fct_fred_observations"])
    [match] = match_cosmos_tasks({"d": dag("d", task)}, [postgres_project])
    assert (match.role, match.node_id) == ("test", "model.finance.fct_fred_observations")


def test_plain_tasks_are_not_cosmos_tasks_whatever_their_name(postgres_project: DbtProject) -> None:
    assert match_cosmos_tasks({"d": dag("d", plain("stg_employees_run"))}, [postgres_project]) == []


def test_unmatched_task_carries_a_reason(postgres_project: DbtProject) -> None:
    [match] = match_cosmos_tasks(
        {"d": dag("d", cosmos("ghost_model_run", "DbtRunLocalOperator", select="fqn:finance.marts.ghost"))},
        [postgres_project],
    )
    assert match.node_id is None
    assert "fqn:finance.marts.ghost" in match.reason and "ghost_model_run" in match.reason and "finance" in match.reason


def test_the_dags_own_project_wins_when_names_collide(
    postgres_project: DbtProject, snowflake_project: DbtProject
) -> None:
    from dataclasses import replace

    other = replace(snowflake_project, project_name="other")
    dags = {
        "d": dag(
            "d",
            cosmos("a.run", "DbtRunLocalOperator", select="fqn:finance.marts.core.dim_date"),
            cosmos("dim_country_run", "DbtRunLocalOperator"),
        )
    }
    matches = match_cosmos_tasks(dags, [other, postgres_project])
    assert {m.project_name for m in matches} == {"finance"}
