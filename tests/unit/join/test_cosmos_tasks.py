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
def test_after_all_test_task_without_a_selection_runs_every_test(postgres_project: DbtProject, task_id: str) -> None:
    # TestBehavior.AFTER_ALL over the whole project: `dbt test` with no selection runs every test.
    [match] = match_cosmos_tasks({"d": dag("d", cosmos(task_id, "DbtTestLocalOperator"))}, [postgres_project])
    tests = {uid for uid, node in postgres_project.nodes.items() if node.resource_type == "test"}
    assert (match.role, match.node_id, match.project_name, match.method) == ("test", None, "finance", "selector")
    assert set(match.runs) == tests
    assert "model.finance.fct_index_performance" in match.nodes and "source.finance.fred.series" in match.nodes


def test_after_all_test_task_with_a_selector_runs_the_tests_of_what_it_selects(postgres_project: DbtProject) -> None:
    task = cosmos("dbt_project_test", "DbtTestLocalOperator", select=["+fct_fred_observations"])
    [match] = match_cosmos_tasks({"d": dag("d", task)}, [postgres_project])
    assert (match.role, match.node_id) == ("test", None)
    assert "model.finance.fct_fred_observations" in match.nodes
    assert "model.finance.fct_index_performance" not in match.nodes
    assert all(uid.startswith("test.") for uid in match.runs) and match.runs


def test_a_model_test_task_stands_for_its_model_and_reads_what_its_tests_read(postgres_project: DbtProject) -> None:
    # dbt's eager indirect selection: selecting dim_country also runs the relationships test that
    # dim_securities.country_code has to it, so the task reads both tables.
    [match] = match_cosmos_tasks(
        {"d": dag("d", cosmos("dim_country.test", "DbtTestLocalOperator", select="dim_country"))}, [postgres_project]
    )
    assert match.node_id == "model.finance.dim_country"
    assert {"model.finance.dim_country", "model.finance.dim_securities"} <= set(match.nodes)


@pytest.mark.parametrize(
    ("operator", "fields", "types"),
    [
        ("DbtRunKubernetesOperator", {"select": "tag:staging", "exclude": "tag:hr"}, {"model"}),
        ("DbtBuildAwsEksOperator", {"selector": "markets_daily"}, {"model", "snapshot", "test"}),
        ("DbtSeedDockerOperator", {"select": "path:seeds"}, {"seed"}),
        ("DbtSourceAzureContainerInstanceOperator", {"select": "source:markets"}, {"source"}),
        ("DbtTestGcpCloudRunJobOperator", {"select": "test_name:not_null"}, {"test"}),
        ("DbtProducerWatcherOperator", {"select": "+fct_index_performance"}, {"model", "test"}),
        ("DbtConsumerWatcherKubernetesSensor", {"select": "tag:staging"}, {"model"}),
    ],
)
def test_hand_written_operators_of_any_execution_mode_run_their_whole_selection(
    snowflake_project: DbtProject, operator: str, fields: dict[str, object], types: set[str]
) -> None:
    [match] = match_cosmos_tasks({"d": dag("d", cosmos("hand_written", operator, **fields))}, [snowflake_project])
    assert match.matched and match.method == "selector" and len(match.runs) > 1
    assert {snowflake_project.nodes[uid].resource_type for uid in match.runs} == types


@pytest.mark.parametrize(
    "operator",
    ["DbtRunOperationLocalOperator", "DbtLSLocalOperator", "DbtDocsS3LocalOperator", "SetupAsyncOperator"],
)
def test_commands_that_build_no_table_are_matched_to_nothing_with_the_reason(
    postgres_project: DbtProject, operator: str
) -> None:
    [match] = match_cosmos_tasks({"d": dag("d", cosmos("op", operator, select="tag:markets"))}, [postgres_project])
    assert (match.role, match.matched, match.runs) == ("operation", False, ())
    assert operator in match.reason and "no dbt command that builds a table" in match.reason


def test_a_selection_the_manifest_cannot_evaluate_is_not_an_error(postgres_project: DbtProject) -> None:
    [match] = match_cosmos_tasks(
        {"d": dag("d", cosmos("changed", "DbtBuildLocalOperator", select="state:modified+"))}, [postgres_project]
    )
    assert not match.matched and not match.evaluable and "state" in match.reason


def test_plain_tasks_are_not_cosmos_tasks_whatever_their_name(postgres_project: DbtProject) -> None:
    assert match_cosmos_tasks({"d": dag("d", plain("stg_employees_run"))}, [postgres_project]) == []


def test_unmatched_task_carries_a_reason(postgres_project: DbtProject) -> None:
    [match] = match_cosmos_tasks(
        {"d": dag("d", cosmos("ghost_model_run", "DbtRunLocalOperator", select="fqn:finance.marts.ghost"))},
        [postgres_project],
    )
    assert match.node_id is None
    assert "fqn:finance.marts.ghost" in match.reason and "selects no model of finance" in match.reason


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


def test_selection_flags_in_dbt_cmd_flags_count(postgres_project: DbtProject) -> None:
    flags = ["--exclude", "dim_country", "--indirect-selection=cautious", "--full-refresh"]
    task = cosmos("marts", "DbtBuildLocalOperator", select="tag:marts", dbt_cmd_flags=flags)
    [match] = match_cosmos_tasks({"d": dag("d", task)}, [postgres_project])
    assert "model.finance.dim_country" not in match.runs and "model.finance.dim_date" in match.runs
    assert not [uid for uid in match.runs if uid.startswith("test.finance.unique_dim_country")]


def test_a_task_whose_selection_the_source_could_not_give_is_not_taken_for_the_whole_project(
    postgres_project: DbtProject,
) -> None:
    from dataclasses import replace

    unknown = replace(cosmos("custom_id_7", "DbtRunLocalOperator"), template_values_known=False)
    [match] = match_cosmos_tasks({"d": dag("d", unknown)}, [postgres_project])
    assert not match.matched and match.runs == () and "REST" in match.reason
    known = replace(cosmos("stg_employees_run", "DbtRunLocalOperator"), template_values_known=False)
    [by_id] = match_cosmos_tasks({"d": dag("d", known)}, [postgres_project])
    assert (by_id.node_id, by_id.method) == ("model.finance.stg_employees", "task-id")


def test_selection_flags_in_dbt_cmd_flags_add_to_the_tasks_own(postgres_project: DbtProject) -> None:
    task = cosmos("t", "DbtRunLocalOperator", select="dim_country", dbt_cmd_flags=["--select", "dim_date"])
    [match] = match_cosmos_tasks({"d": dag("d", task)}, [postgres_project])
    assert set(match.runs) == {"model.finance.dim_country", "model.finance.dim_date"}


@pytest.mark.parametrize(
    ("task_id", "operator", "node_id"),
    [
        ("all_sources.markets_securities.source", "DbtSourceLocalOperator", "source.finance.markets.securities"),
        ("markets_securities_source", "DbtSourceLocalOperator", "source.finance.markets.securities"),
        (
            "marts.relationships_dim_securities_country_code__country_code__ref_dim_country__test",
            "DbtTestLocalOperator",
            None,
        ),
    ],
)
def test_source_and_detached_test_tasks_are_matched_by_their_ids(
    postgres_project: DbtProject, task_id: str, operator: str, node_id: str | None
) -> None:
    from dataclasses import replace

    task = replace(cosmos(task_id, operator), template_values_known=False)  # REST, before a run
    [match] = match_cosmos_tasks({"d": dag("d", task)}, [postgres_project])
    assert match.matched and match.method == "task-id" and match.node_id == node_id
    if operator == "DbtTestLocalOperator":  # the test reads both tables
        assert len(match.runs) == 1 and {"model.finance.dim_country", "model.finance.dim_securities"} <= set(
            match.nodes
        )


def test_a_selection_unknown_over_rest_is_a_warning_not_an_error(postgres_project: DbtProject) -> None:
    from dataclasses import replace

    from bridge.join.pipeline import join_lineage
    from bridge.join.settings import JoinSettings
    from bridge.model.airflow import AirflowSnapshot

    task = replace(cosmos("model_8dee1ba7", "DbtRunLocalOperator"), template_values_known=False)
    snapshot = AirflowSnapshot(source="api", airflow_version="3.3.2", schema_revision=None, dags={"d": dag("d", task)})
    problems = join_lineage([postgres_project], snapshot, JoinSettings()).problems
    [problem] = [p for p in problems if p.location == "dag d, task model_8dee1ba7"]
    assert (problem.code, problem.severity) == ("cosmos-selector-not-evaluated", "warning")
