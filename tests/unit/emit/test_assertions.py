"""Assertions as DataHub records (bridge/emit/assertions.py): URNs from the dbt source's guid inputs (checked
against URNs DataHub's dbt source 1.7 wrote for the bundled project), the aspects of a definition, and one
run event per evaluation; the file sink writes them as DataHub serialises them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge.emit.assertions import assertion_mcps, assertion_urn
from bridge.emit.mcps import graph_to_mcps
from bridge.emit.sinks import file_record
from bridge.join.pipeline import join_lineage
from bridge.join.settings import JoinSettings
from bridge.model.dbt import DbtProject
from bridge.model.graph import (
    Assertion,
    AssertionCheck,
    AssertionParameter,
    AssertionRun,
    DatasetKey,
    LineageGraph,
)
from bridge.read.dbt.freshness import read_sources
from bridge.read.dbt.run_results import read_run_results
from tests.conftest import POSTGRES_ARTIFACTS

ORDERS = DatasetKey("dbt", "db.shop.orders")
ORDERS_URN = "urn:li:dataset:(urn:li:dataPlatform:dbt,db.shop.orders,PROD)"
RELATIONSHIPS = "test.finance.relationships_dim_securities_country_code__country_code__ref_dim_country_.4b0334afc7"
ACCEPTED_V1 = (
    "test.finance.accepted_values_dim_employees_v1_department__Executive__Portfolio_Management__Research__Data__"
    "Operations__Risk.1b2771afdd"
)


@pytest.fixture(scope="module")
def graph(postgres_project: DbtProject) -> LineageGraph:
    results = [
        read_run_results(POSTGRES_ARTIFACTS / "run_results.json"),
        read_sources(POSTGRES_ARTIFACTS / "sources.json"),
    ]
    return join_lineage([postgres_project], None, JoinSettings(), results)


def not_null(**given: object) -> Assertion:
    check = AssertionCheck("DATASET_COLUMN", "NOT_NULL", "IDENTITY", "not_null_orders_id", "id",
                           native_parameters={"column_name": "id"})  # fmt: skip
    run = AssertionRun("inv-1", 1795842002000, "fail", "FAILURE", "HIGH", {"message": "1 row", "failures": "1"})
    assertion = Assertion("test.shop.not_null_orders_id.x", "test", ORDERS, check=check, runs=(run,),
                          properties={"dbt_unique_id": "test.shop.not_null_orders_id.x"})  # fmt: skip
    return replace(assertion, **given)  # type: ignore[arg-type]


def test_urns_are_the_dbt_sources(graph: LineageGraph) -> None:
    """Facts: URNs DataHub's dbt source wrote for these nodes of the bundled project (default settings)."""
    urns = {(a.dbt_unique_id, a.upstream_unique_id): assertion_urn(a) for a in graph.assertions}

    assert urns[(ACCEPTED_V1, "model.finance.dim_employees.v1")] == "urn:li:assertion:d4fd1ae16b162233017e3f630c0f682c"
    # a test reading two nodes: one assertion per node, its id naming the node
    assert urns[(RELATIONSHIPS, "model.finance.dim_country")] == "urn:li:assertion:2e5588178a5035c83723c27ea379aceb"
    assert urns[(RELATIONSHIPS, "model.finance.dim_securities")] == "urn:li:assertion:0146ac5c5bcfb65ca77afab0f5408c5a"
    freshness = urns[("source.finance.markets.securities", None)]
    assert freshness == "urn:li:assertion:3a1ca0073eff2880ecc3cfb0b69f0814"


def test_the_instance_is_part_of_the_urn_the_env_is_not() -> None:
    plain = not_null()
    assert assertion_urn(replace(plain, assertee=replace(ORDERS, env="DEV"))) == assertion_urn(plain)
    assert assertion_urn(replace(plain, dbt_platform_instance="eu")) != assertion_urn(plain)


def test_a_definition_and_its_runs() -> None:
    assertion = not_null(owners=("data@example.com",))
    records = {(r.aspectName or "", i): r.aspect.to_obj() for i, r in enumerate(assertion_mcps(assertion))}  # type: ignore[union-attr]
    aspects = {name: value for (name, _), value in records.items()}

    assert sorted(name for name, _ in records) == [
        "assertionInfo", "assertionRunEvent", "dataPlatformInstance", "ownership", "status"
    ]  # fmt: skip
    field = f"urn:li:schemaField:({ORDERS_URN},id)"
    assert aspects["assertionInfo"] == {
        "customProperties": {"dbt_unique_id": "test.shop.not_null_orders_id.x"},
        "type": "CUSTOM",
        "customAssertion": {
            "type": "dbt",
            "entity": ORDERS_URN,
            "field": field,
            "fields": [field],
            "scope": "DATASET_COLUMN",
            "operator": "NOT_NULL",
            "aggregation": "IDENTITY",
            "nativeType": "not_null_orders_id",
            "nativeParameters": {"column_name": "id"},
        },
        "source": {"type": "EXTERNAL"},
    }
    event = aspects["assertionRunEvent"]
    assert (event["timestampMillis"], event["runId"], event["asserteeUrn"], event["status"]) == (
        1795842002000, "inv-1", ORDERS_URN, "COMPLETE"
    )  # fmt: skip
    assert event["assertionUrn"] == assertion_urn(assertion)
    assert event["result"] == {
        "type": "FAILURE",
        "severity": "HIGH",
        "nativeResults": {"message": "1 row", "failures": "1"},
    }
    assert aspects["dataPlatformInstance"] == {"platform": "urn:li:dataPlatform:dbt"}
    assert aspects["ownership"]["owners"] == [{"owner": "urn:li:corpuser:data@example.com", "type": "DATAOWNER"}]
    assert aspects["status"] == {"removed": False}


def test_parameters_and_instances() -> None:
    low, high = AssertionParameter("0", "NUMBER"), AssertionParameter("9", "NUMBER")
    check = AssertionCheck("DATASET_COLUMN", "BETWEEN", "IDENTITY", "t", None, min_value=low, max_value=high)
    assertion = not_null(check=check, dbt_platform_instance="eu", runs=())
    aspects = {r.aspectName: r.aspect.to_obj() for r in assertion_mcps(assertion)}  # type: ignore[union-attr]

    custom = aspects["assertionInfo"]["customAssertion"]
    assert "field" not in custom and "fields" not in custom  # no column: the dataset is checked
    assert custom["parameters"] == {
        "minValue": {"value": "0", "type": "NUMBER"},
        "maxValue": {"value": "9", "type": "NUMBER"},
    }
    assert aspects["dataPlatformInstance"] == {
        "platform": "urn:li:dataPlatform:dbt",
        "instance": "urn:li:dataPlatformInstance:(urn:li:dataPlatform:dbt,eu)",
    }
    assert "assertionRunEvent" not in aspects  # a test never run is defined all the same


def test_freshness_is_a_dbt_freshness_assertion_on_the_table(graph: LineageGraph) -> None:
    [freshness] = [a for a in graph.assertions if a.kind == "freshness"]
    aspects = {r.aspectName: r.aspect.to_obj() for r in assertion_mcps(freshness)}  # type: ignore[union-attr]

    table = "urn:li:dataset:(urn:li:dataPlatform:postgres,bridge_dbt.raw.raw_securities,PROD)"
    assert aspects["assertionInfo"]["customAssertion"] == {"type": "dbt Freshness", "entity": table}
    assert aspects["assertionRunEvent"]["asserteeUrn"] == table
    assert aspects["assertionRunEvent"]["result"]["type"] == "FAILURE"  # the bundled source is stale


def test_the_graphs_assertions_are_emitted_as_datahub_serialises_them(graph: LineageGraph) -> None:
    proposals = [p for p in graph_to_mcps(graph) if p.entityType == "assertion"]
    urns = [p.entityUrn or "" for p in proposals]
    results = {p.aspect.result.type for p in proposals if p.aspectName == "assertionRunEvent"}  # type: ignore[union-attr]

    assert len(set(urns)) == len(graph.assertions) == 64 and urns == sorted(urns)
    assert results == {"SUCCESS", "FAILURE"}
    cache: dict[int, object] = {}
    assert all(file_record(p, cache) == p.to_obj(simplified_structure=True) for p in proposals)


def test_a_run_the_cosmos_test_task_ran_names_that_task_run() -> None:
    from bridge.emit.assertions import run_event
    from bridge.emit.runs import instance_urn
    from bridge.model.graph import RunKey

    task = RunKey("finance_dbt", "manual__2026-01-05", "orders.test")
    run = AssertionRun("inv-1", 1795842002000, "pass", "SUCCESS", task_run=task)
    event = run_event("urn:li:assertion:x", not_null(), run)
    assert event.runtimeContext == {
        "airflowTaskRun": str(instance_urn(task)),
        "dagId": "finance_dbt",
        "taskId": "orders.test",
        "runId": "manual__2026-01-05",
    }
    assert run_event("urn:li:assertion:x", not_null(), replace(run, task_run=None)).runtimeContext is None


def test_a_cosmos_test_task_names_the_assertions_of_the_tests_it_runs(postgres_project: DbtProject) -> None:
    from bridge.model.airflow import AirflowSnapshot
    from tests.unit.join.conftest import cosmos, dag

    task = cosmos("dim_country.test", "DbtTestLocalOperator", select="dim_country")
    snapshot = AirflowSnapshot(source="db", airflow_version="3.3.2", schema_revision=None, dags={"d": dag("d", task)})
    joined = join_lineage([postgres_project], snapshot, JoinSettings())
    [job] = joined.jobs
    proposals = [p for p in graph_to_mcps(joined) if p.entityUrn.startswith("urn:li:dataJob:")]
    [info] = [p.aspect for p in proposals if p.aspectName == "dataJobInfo"]
    listed = info.customProperties["dbt_assertions"].split(", ")
    assert info.customProperties["dbt_tests"] == str(len(job.dbt_tests)) and RELATIONSHIPS in job.dbt_tests
    # the relationships test reads dim_securities and dim_country: both of its assertions are named
    expected = {assertion_urn(a) for a in joined.assertions if a.dbt_unique_id in job.dbt_tests}
    assert (
        set(listed) == expected
        and {
            "urn:li:assertion:2e5588178a5035c83723c27ea379aceb",
            "urn:li:assertion:0146ac5c5bcfb65ca77afab0f5408c5a",
        }
        <= expected
    )
