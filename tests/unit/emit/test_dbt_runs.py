"""dbt executions as DataProcessInstances: one per invocation and node, an instance of the node's dbt dataset,
a child of the Cosmos task run that executed it (or alone), dbt's statuses as DataHub's results, and the
same bytes every time."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from datahub.api.entities.dataprocess.dataprocess_instance import DataProcessInstance

from bridge.emit.dbt_runs import STATUS_RESULTS, dbt_run_entities
from bridge.emit.mcps import graph_to_mcps
from bridge.emit.runs import instance_urn
from bridge.emit.urns import urn_of
from bridge.model.graph import Dataset, DatasetKey, DbtResult, LineageGraph, Run, RunKey

MODEL = "model.finance.dim_securities"
DBT = DatasetKey("dbt", "finance.public.dim_securities")
TABLE = DatasetKey("postgres", "finance.public.dim_securities")
TASK = RunKey("finance_dbt", "scheduled__2026-01-05T00:00:00+00:00", "dim_securities.run", cluster="e2e")
RESULT = DbtResult("inv-1", "run", MODEL, DBT, "success", 1_000, 3_500, 2.5, message="SELECT 4", parent_run=TASK)

# Every status dbt writes (dbt-core's NodeStatus and RunStatus), with the result DataHub is told.
DBT_STATUSES = {
    "success": "SUCCESS",
    "pass": "SUCCESS",
    "warn": "SUCCESS",
    "error": "FAILURE",
    "fail": "FAILURE",
    "runtime error": "FAILURE",
    "partial success": "FAILURE",
    "skipped": "SKIPPED",
    "no-op": "SKIPPED",
}


def graph(*results: DbtResult, runs: tuple[Run, ...] = ()) -> LineageGraph:
    datasets = (Dataset(DBT, "dim_securities", "Model", sibling=TABLE), Dataset(TABLE, "dim_securities", "Table"))
    return LineageGraph(datasets=datasets, runs=runs, dbt_results=results)


def aspects(result: DbtResult, runs: tuple[Run, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    """aspect name -> the aspects of the result's instance, as DataHub serialises them."""
    (urn,) = [urn for urn, _, _ in dbt_run_entities(graph(result, runs=runs))]
    found: dict[str, list[dict[str, Any]]] = {}
    for proposal in graph_to_mcps(graph(result, runs=runs)):
        if proposal.entityUrn == urn:
            found.setdefault(proposal.aspectName or "", []).append(proposal.aspect.to_obj())  # type: ignore[union-attr]
    return found


def test_the_id_is_the_invocation_and_the_node_as_datahubs_dbt_source_names_it() -> None:
    # dbt_common.py `_create_dataprocess_instance_mcps`: id `<run_id>_<the node's dbt URN>`, orchestrator dbt,
    # no cluster: the bridge and the dbt source name one execution one instance
    ((urn, _, _),) = dbt_run_entities(graph(RESULT))
    assert urn == str(DataProcessInstance(id=f"inv-1_{urn_of(DBT)}", orchestrator="dbt", cluster=None).urn)
    again = replace(RESULT, invocation_id="inv-2")
    assert len({u for u, _, _ in dbt_run_entities(graph(RESULT, again))}) == 2
    (properties,) = aspects(RESULT)["dataProcessInstanceProperties"]
    assert properties["name"] == f"inv-1_{urn_of(DBT)}"


def test_an_instance_of_the_dbt_dataset_under_the_task_run_that_executed_it() -> None:
    (relationships,) = aspects(RESULT)["dataProcessInstanceRelationships"]
    assert relationships["parentTemplate"] == urn_of(DBT)
    assert relationships["parentInstance"] == str(instance_urn(TASK))
    (output,) = aspects(RESULT)["dataProcessInstanceOutput"]
    assert output["outputs"] == [urn_of(DBT), urn_of(TABLE)]


def test_a_result_no_task_run_executed_stands_alone() -> None:
    found = aspects(replace(RESULT, parent_run=None))
    (relationships,) = found["dataProcessInstanceRelationships"]
    assert relationships["parentTemplate"] == urn_of(DBT) and relationships.get("parentInstance") is None
    assert found["dataProcessInstanceProperties"][0]["type"] == "BATCH_AD_HOC"


def test_it_takes_the_type_of_its_task_run() -> None:
    run = Run(TASK.run_id, TASK.dag_id, TASK.task_id, "e2e", "COMPLETE", "SUCCESS", 0, 5_000, run_type="scheduled")
    assert aspects(RESULT, (run,))["dataProcessInstanceProperties"][0]["type"] == "BATCH_SCHEDULED"


def test_properties_say_what_dbt_said_and_created_is_the_start() -> None:
    failed = replace(RESULT, status="error", failures=2, message="connection to postgres://bob:hunter2@db failed")
    (properties,) = aspects(failed)["dataProcessInstanceProperties"]
    assert properties["created"]["time"] == 1_000
    assert properties["customProperties"] == {
        "command": "run",
        "dbt_name": MODEL,
        "dbt_urn": urn_of(DBT),
        "execution_time": "2.500",
        "failures": "2",
        "invocation_id": "inv-1",
        "message": "connection to postgres://***@db failed",
        "status": "error",
        "unique_id": MODEL,
    }


def test_start_and_end_events_carry_dbts_times_and_result() -> None:
    start, end = aspects(RESULT)["dataProcessInstanceRunEvent"]
    assert (start["status"], start["timestampMillis"]) == ("STARTED", 1_000)
    assert (end["status"], end["timestampMillis"], end["durationMillis"]) == ("COMPLETE", 3_500, 2_500)
    assert end["result"] == {"type": "SUCCESS", "nativeResultType": "success"}  # dbt's status, as the dbt source


@pytest.mark.parametrize(("status", "expected"), sorted(DBT_STATUSES.items()))
def test_every_dbt_status_is_a_datahub_result(status: str, expected: str) -> None:
    (_, end) = aspects(replace(RESULT, status=status))["dataProcessInstanceRunEvent"]
    assert end["result"]["type"] == expected


def test_the_status_table_covers_every_dbt_status_and_nothing_else() -> None:
    assert set(STATUS_RESULTS) == set(DBT_STATUSES)


def test_without_times_or_a_known_status_no_event_claims_them() -> None:
    assert "dataProcessInstanceRunEvent" not in aspects(replace(RESULT, start_ms=None, end_ms=None))
    (start,) = aspects(replace(RESULT, status="mystery"))["dataProcessInstanceRunEvent"]
    assert start["status"] == "STARTED"
    (properties,) = aspects(replace(RESULT, start_ms=None, end_ms=None))["dataProcessInstanceProperties"]
    assert properties["created"]["time"] == 1  # never the wall clock


def test_tests_operations_unknown_nodes_and_results_without_an_invocation_are_not_emitted() -> None:
    test = replace(RESULT, unique_id="test.finance.not_null_dim_securities_id", dataset=None)
    operation = replace(RESULT, unique_id="operation.finance.on-run-end-0", dataset=None)
    unknown = replace(RESULT, unique_id="model.finance.gone", dataset=None)
    anonymous = replace(RESULT, invocation_id=None)
    seed = replace(RESULT, unique_id="seed.finance.raw_securities")
    emitted = dbt_run_entities(graph(test, operation, unknown, anonymous, seed, RESULT))
    assert len(emitted) == 2


def test_the_output_is_the_same_every_time() -> None:
    def output() -> str:
        results = (
            RESULT,
            replace(RESULT, invocation_id="inv-0", parent_run=None),
            replace(RESULT, unique_id="seed.finance.raw", status="error"),
        )
        return json.dumps([p.to_obj() for p in graph_to_mcps(graph(*results))], sort_keys=True)

    assert output() == output()
