"""dbt tests and source freshness as assertions (bridge/join/dbt_tests.py, dbt_test_checks.py): what each kind
of test checks in DataHub's terms, one assertion per node a test reads, results by dbt status, freshness
on the source's table, and dbt's generated test names told apart from chosen ones (checked against dbt-core's
own naming function)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from dbt.parser.generic_test_builders import synthesize_generic_test_names

from bridge.join.dbt_test_checks import check_of_test, chosen_title, generated_test_names
from bridge.join.dbt_tests import dbt_assertions, result_of_freshness, result_of_test
from bridge.join.pipeline import join_lineage
from bridge.join.settings import JoinSettings
from bridge.model.dbt import (
    CatalogTable,
    DbtNode,
    DbtProject,
    FreshnessCriterion,
    RunResult,
    RunResults,
    SourceFreshness,
    TestInfo,
)
from bridge.model.graph import Assertion, AssertionCheck, AssertionParameter, DatasetKey
from bridge.read.dbt.run_results import read_run_results
from tests.conftest import POSTGRES_ARTIFACTS

FAILING = "test.finance.assert_index_months_have_full_trading_days"
RELATIONSHIPS = "test.finance.relationships_dim_securities_country_code__country_code__ref_dim_country_.4b0334afc7"
SECURITIES = "source.finance.markets.securities"
MODEL = "{{ get_where_subquery(ref('orders')) }}"


def generic(name: str, namespace: str | None = None, node_name: str = "a_test", **kwargs: Any) -> DbtNode:
    test = TestInfo(name, kwargs.get("column_name"), None, None, namespace, {"model": MODEL, **kwargs}, "select 1")
    return DbtNode(f"test.p.{node_name}.abc", "test", "p", node_name, None, test=test)


def check_of(node: DbtNode) -> AssertionCheck:
    assert node.test is not None
    return check_of_test(node, node.test)


def assertions(
    project: DbtProject, *results: RunResults, catalog: dict[str, CatalogTable] | None = None
) -> list[Assertion]:
    return list(
        dbt_assertions([project], dict.fromkeys(project.nodes, project), results, catalog or {}, JoinSettings())
    )


def build(*results: RunResult, command: str = "build", invocation: str = "inv-1") -> RunResults:
    return RunResults(f"{invocation}/run_results.json", 6, invocation, "2026-11-28T05:00:00Z", command, results)


def test_the_tests_datahub_has_terms_for() -> None:
    not_null = check_of(generic("not_null", column_name="id"))
    unique = check_of(generic("unique", column_name="id"))
    accepted = check_of(generic("accepted_values", column_name="state", values=["ok", "né"]))
    between = check_of(generic("expect_column_values_to_be_between", "dbt_expectations", column_name="n", min_value=0))

    assert (not_null.scope, not_null.operator, not_null.aggregation, not_null.column) == (
        "DATASET_COLUMN", "NOT_NULL", "IDENTITY", "id"
    )  # fmt: skip
    assert (unique.operator, unique.aggregation, unique.value) == (
        "EQUAL_TO", "UNIQUE_PROPOTION", AssertionParameter("1.0", "NUMBER")
    )  # fmt: skip
    assert (accepted.operator, accepted.value) == ("IN", AssertionParameter('["ok", "n\\u00e9"]', "SET"))  # JSON
    assert (between.operator, between.min_value, between.max_value) == (
        "BETWEEN", AssertionParameter("0", "NUMBER"), AssertionParameter("unknown", "NUMBER")
    )  # fmt: skip
    # every argument as Python prints it, the model's jinja included
    assert accepted.native_parameters == {"model": MODEL, "column_name": "state", "values": "['ok', 'né']"}
    assert not_null.logic is None and not_null.native_type == "a_test"


def test_relationships_say_in_words_where_the_column_must_be_found() -> None:
    versioned = "{{ get_where_subquery(ref('employees', version='1')) }}"
    check = check_of(generic("relationships", column_name="manager_id", to="ref('employees')", field="id"))
    odd = check_of(
        replace_model(generic("relationships", column_name="m", to="source('hr', 'e')", field="id"), versioned)
    )

    assert (check.operator, check.aggregation, check.value) == (
        "_NATIVE_",
        "IDENTITY",
        AssertionParameter("null", "SET"),
    )
    assert check.logic == "orders.manager_id referential integrity to employees.id"
    assert odd.logic == "employees', version='1.m referential integrity to source('hr', 'e').id"  # as DataHub has it
    assert check_of(generic("relationships", column_name="m")).logic is None  # no `to`: nothing to say


def replace_model(node: DbtNode, model: str) -> DbtNode:
    assert node.test is not None
    return replace(node, test=replace(node.test, kwargs={**node.test.kwargs, "model": model}))


def test_other_tests_are_native_checks_with_their_sql() -> None:
    column = check_of(generic("expression_is_true", "dbt_utils", column_name="amount", expression="> 0"))
    rows = check_of(generic("expression_is_true", "dbt_utils", expression="a > b"))

    assert (column.scope, column.operator, column.aggregation, column.logic) == (
        "DATASET_COLUMN", "_NATIVE_", "_NATIVE_", "select 1"
    )  # fmt: skip
    assert (rows.scope, rows.column, rows.logic, rows.value) == ("DATASET_ROWS", None, "select 1", None)


@pytest.mark.parametrize(
    ("test_type", "target", "kwargs"),
    [
        ("not_null", "orders", {"column_name": "id", "model": MODEL}),
        ("accepted_values", "dim_employees_v1", {"column_name": "department", "values": ["A b", "C-d"]}),
        ("relationships", "orders", {"column_name": "c", "to": "ref('customers')", "field": "id", "model": MODEL}),
        ("dbt_utils_expression_is_true", "orders", {"expression": "col_a + col_b > " + "9" * 40}),  # >= 64
        ("source_unique", "fred_series", {"column_name": "series_id", "where": {"a": 1, "b": [1, 2]}}),
    ],
)
def test_generated_names_are_dbts(test_type: str, target: str, kwargs: dict[str, Any]) -> None:
    assert generated_test_names(f"{test_type}_{target}", kwargs, False) == synthesize_generic_test_names(
        test_type, target, kwargs
    )


def test_a_name_someone_chose_is_the_description() -> None:
    chosen = generic("unique", node_name="orders_have_one_row_per_id", column_name="id")
    generated = generic("unique", node_name="unique_orders_id", column_name="id")
    long_kwargs: dict[str, Any] = {"column_name": "status", "values": ["placed", "shipped", "completed", "returned"]}
    short, _ = synthesize_generic_test_names("accepted_values", "orders", {"model": MODEL, **long_kwargs})
    hashed = generic("accepted_values", node_name=short, **long_kwargs)
    dated = generic("accepted_values", node_name="accepted_values_orders_day__2024_01_01_00_00_00", column_name="day",
                    values=["2024-01-01T00:00:00"])  # fmt: skip  # a YAML date: dbt named it from the datetime
    singular = DbtNode("test.p.assert_x", "test", "p", "assert_x", None, test=TestInfo(None, None, None, None))

    assert description(chosen, "model.p.orders") == "orders_have_one_row_per_id"
    assert description(generated, "model.p.orders") is None
    assert description(hashed, "model.p.orders") is None
    assert description(dated, "model.p.orders") is None
    assert description(singular, "model.p.orders") is None  # a singular test's name is its file's, not a title
    assert description(generated, "model.p.customers", "model.p.orders") is None  # named after one of them
    assert description(chosen, "analysis.p") is None  # no node dbt names tests after: cannot tell


def test_without_arguments_only_the_names_prefix_tells() -> None:
    bare = TestInfo("test_not_null", None, None, None, "dbt_utils")  # as dbt Cloud describes a test: no kwargs
    generated = DbtNode("test.p.x", "test", "p", "dbt_utils_not_null_customer_orders_history_id", None, test=bare)
    hashed = replace(generated, name="dbt_utils_not_null_customer_or_" + "0a" * 16)  # 30 characters, an md5
    chosen = replace(generated, name="ids_are_there")
    upstream = "model.p.customer_orders_history"

    assert [description(n, upstream) for n in (generated, hashed, chosen)] == [None, None, "ids_are_there"]


def description(node: DbtNode, *upstreams: str) -> str | None:
    assert node.test is not None
    return chosen_title(node, node.test, upstreams)


def test_dbt_statuses_as_datahub_results() -> None:
    assert [result_of_test(s) for s in ("pass", "success", "warn", "fail", "error", "runtime error")] == [
        ("SUCCESS", None), ("SUCCESS", None), ("SUCCESS", None), ("FAILURE", "HIGH"), ("ERROR", None), ("ERROR", None)
    ]  # fmt: skip
    assert [result_of_freshness(s) for s in ("pass", "warn", "error", "runtime error")] == [
        ("SUCCESS", None), ("SUCCESS", None), ("FAILURE", "HIGH"), ("ERROR", None)
    ]  # fmt: skip


def test_the_bundled_build_passes_and_fails(postgres_project: DbtProject) -> None:
    graph = join_lineage(
        [postgres_project], None, JoinSettings(), [read_run_results(POSTGRES_ARTIFACTS / "run_results.json")]
    )
    tests = postgres_project.of_type("test")
    by_test = {a.dbt_unique_id: a for a in graph.assertions}

    assert set(by_test) == {t.unique_id for t in tests}, "every test of the manifest is an assertion"
    assert all(len(a.runs) == 1 for a in graph.assertions), "every test ran once in the build"
    failed = by_test[FAILING].runs[0]
    assert (failed.result, failed.severity, failed.status) == ("FAILURE", "HIGH", "fail")
    assert failed.native_results == {"message": "Got 3 results, configured to fail if != 0", "failures": "3"}
    assert {a.runs[0].result for a in graph.assertions if a.dbt_unique_id != FAILING} == {"SUCCESS"}
    assert all(not a.runs[0].native_results for a in graph.assertions if a.dbt_unique_id != FAILING)
    assert by_test[FAILING].assertee == DatasetKey("dbt", "bridge_dbt.marts.fct_index_performance")
    assert all(a.description is None for a in graph.assertions), "the bundled tests have dbt's names"


def test_a_test_reading_two_nodes_is_two_assertions(postgres_project: DbtProject) -> None:
    found = [a for a in assertions(postgres_project) if a.dbt_unique_id == RELATIONSHIPS]

    assert [(a.upstream_unique_id, a.assertee.name, a.names_upstream) for a in found] == [
        ("model.finance.dim_country", "bridge_dbt.marts.dim_country", True),
        ("model.finance.dim_securities", "bridge_dbt.marts.securities", True),  # the alias names it
    ]
    assert found[0].check == found[1].check and found[0].check is not None
    assert found[0].check.column == "country_code"
    single = next(a for a in assertions(postgres_project) if a.dbt_unique_id == FAILING)
    assert (single.names_upstream, single.check and single.check.scope) == (False, "DATASET_ROWS")


def test_a_source_named_as_a_model_is_read_as_the_model(postgres_project: DbtProject) -> None:
    source = postgres_project.nodes["source.finance.markets.securities"]
    model = postgres_project.nodes["model.finance.dim_securities"]
    assert model.location is not None and source.location is not None
    twin = replace(source, name="securities", location=replace(source.location, schema=model.location.schema))
    project = replace(postgres_project, nodes={**postgres_project.nodes, twin.unique_id: twin})

    on_source = [a for a in assertions(project) if a.dbt_unique_id.startswith("test.finance.source_")]
    on_twin = [a for a in on_source if "markets_securities" in a.dbt_unique_id]

    assert len(on_twin) == 2 and {a.upstream_unique_id for a in on_twin} == {"model.finance.dim_securities"}
    assert all((a.upstream_unique_id or "").startswith("source.") for a in on_source if a not in on_twin)


def test_results_are_per_invocation_at_the_start_of_execution(postgres_project: DbtProject) -> None:
    result = RunResult(FAILING, "fail", 0.1, "2026-11-28T05:00:01Z", None, "3 rows", 3, "2026-11-28T05:00:02Z")
    untimed = RunResult(FAILING, "error", 0.1, None, None, None)
    skipped = RunResult(FAILING, "skipped", 0.0, None, None)
    runs = [
        build(result),
        build(result),  # the same invocation given again: once
        build(untimed, invocation="inv-2"),
        build(skipped, invocation="inv-3"),
        build(result, command="generate", invocation="inv-4"),  # docs generate: not a test run
    ]

    [assertion] = [a for a in assertions(postgres_project, *runs) if a.dbt_unique_id == FAILING]

    assert [(r.run_id, r.timestamp_ms, r.result, r.native_results) for r in assertion.runs] == [
        ("inv-2", 1795842000000, "ERROR", {"message": ""}),  # no timing: when the file was written
        ("inv-1", 1795842002000, "FAILURE", {"message": "3 rows", "failures": "3"}),
    ]


def freshness_result(status: str, **given: Any) -> RunResult:
    freshness = SourceFreshness(
        "2024-09-09T06:00:00+00:00", "2026-11-28T11:04:00.5Z", 70002240.5,
        warn_after=given.get("warn", FreshnessCriterion(1, "day")), error_after=given.get("error"),
    )  # fmt: skip
    return RunResult(SECURITIES, status, 0.03, None, None, freshness=freshness)


def test_source_freshness_is_an_assertion_on_the_sources_table(postgres_project: DbtProject) -> None:
    checks = build(freshness_result("error", error=FreshnessCriterion(7, "day")), command="source freshness")
    catalog = {"model.finance.dim_date": CatalogTable("model.finance.dim_date", None, None, (), "cat/v1", "1.11")}

    [freshness] = [a for a in assertions(postgres_project, checks, catalog=catalog) if a.kind == "freshness"]

    assert freshness.assertee == DatasetKey("postgres", "bridge_dbt.raw.raw_securities")  # its physical identifier
    assert freshness.properties == {
        "dbt_unique_id": SECURITIES,
        "manifest_schema": "https://schemas.getdbt.com/dbt/manifest/v12.json",
        "manifest_version": postgres_project.dbt_version,
        "manifest_adapter": "postgres",
        "catalog_schema": "cat/v1",
        "catalog_version": "1.11",
        "dbt_freshness_test": "true",
        "warn_after_count": "1",
        "warn_after_period": "day",
        "error_after_count": "7",
        "error_after_period": "day",
    }
    [run] = freshness.runs
    assert (run.timestamp_ms, run.result, run.severity) == (1795863840500, "FAILURE", "HIGH")
    assert run.native_results == {
        "status": "error",
        "max_loaded_at": "2024-09-09T06:00:00+00:00",
        "snapshotted_at": "2026-11-28T11:04:00.500000+00:00",
        "max_loaded_at_time_ago_in_s": "70002240.5",
    }


def test_a_freshness_check_without_criteria_or_a_result_is_no_assertion(postgres_project: DbtProject) -> None:
    no_criteria = build(freshness_result("pass", warn=None), command="source freshness")
    runtime_error = build(RunResult(SECURITIES, "runtime error", 0.0, None, None, "no column"), command="freshness")

    assert not [a for a in assertions(postgres_project, no_criteria, runtime_error) if a.kind == "freshness"]
