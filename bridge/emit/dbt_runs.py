"""dbt executions as DataProcessInstances: a model, seed or snapshot built by one dbt invocation.

Id: `<invocation_id>_<the node's dbt dataset URN>` (orchestrator `dbt`, no cluster), as DataHub's dbt source
names a model's run (`_create_dataprocess_instance_mcps`), so that both name one execution one instance.
dbt gives every invocation its own uuid (run_results' `metadata.invocation_id`), so the id is unique per
invocation and node, and the same however often, and from whichever artifact, the invocation is read (its
run_results.json and its on-run-end export are one result in the join). A result without an invocation id,
or of a node no manifest describes (no dataset), is not emitted: nothing would name it stably or say what it
built. Tests are not executions here: their results are assertions.

Template: the node's dbt dataset. DataHub's `DataProcessInstanceRelationships.parentTemplate` takes dataJob,
dataFlow and dataset URNs (its `entityTypes`, relationship `InstanceOf`, in acryl-datahub 1.7's
DataProcessInstanceRelationships.avsc), and `DataProcessInstance.template_urn` is typed to take a DatasetUrn.
Parent instance: the Cosmos task run that executed it (`DbtResult.parent_run`, found by join/dbt_runs.py),
as `bridge.emit.runs` names that run's instance; a result no task run executed stands alone. Type: the
parent's (scheduled or ad hoc), else BATCH_AD_HOC. Outputs: the dbt dataset and its warehouse table.

Events: started and completed as dbt timed its `execute` step (else the whole result), DataHub's result from
dbt's status (`STATUS_RESULTS`) and dbt's status as the result's native type, as the dbt source writes them
(which emits only `success` and `error`: the bridge also says what was skipped); created = the start (else
the end): never the wall clock. Properties: the dbt source's (`dbt_name`, `dbt_urn`) and what dbt said.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from datahub.api.entities.dataprocess.dataprocess_instance import DataProcessInstance, InstanceRunResult
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import DataProcessTypeClass
from datahub.metadata.urns import DatasetUrn

from bridge.emit.runs import instance_urn, process_type
from bridge.emit.urns import urn_of
from bridge.model.graph import DatasetKey, DbtResult, LineageGraph, Run, RunKey
from bridge.redact import Redactor

ORCHESTRATOR = "dbt"
MESSAGE_LIMIT = 2000

# Every status dbt writes (NodeStatus / RunStatus) -> DataHub's result. A warning still built the node; a
# partial success (a microbatch model with failed batches) did not build all of it; no-op built nothing.
STATUS_RESULTS: dict[str, InstanceRunResult] = {
    "success": InstanceRunResult.SUCCESS,
    "pass": InstanceRunResult.SUCCESS,
    "warn": InstanceRunResult.SUCCESS,
    "error": InstanceRunResult.FAILURE,
    "fail": InstanceRunResult.FAILURE,
    "runtime error": InstanceRunResult.FAILURE,
    "partial success": InstanceRunResult.FAILURE,
    "skipped": InstanceRunResult.SKIPPED,
    "no-op": InstanceRunResult.SKIPPED,
}

Builder = Callable[[], list[MetadataChangeProposalWrapper]]


def is_emitted(result: DbtResult) -> bool:
    """A model, seed or snapshot execution with an invocation id and a dbt dataset."""
    return result.is_execution and result.dataset is not None and bool(result.invocation_id)


def instance_id(result: DbtResult) -> str:
    assert result.dataset is not None
    return f"{result.invocation_id}_{urn_of(result.dataset)}"


def dbt_run_entities(graph: LineageGraph) -> list[tuple[str, object, Builder]]:
    """(instance URN, the values its MCPs are made from, what builds them) for every dbt execution."""
    warehouse = {d.key: d.sibling for d in graph.datasets if d.key.platform == "dbt" and d.sibling}
    runs = {run.key: run for run in graph.runs}
    found: list[tuple[str, object, Builder]] = []
    for result in graph.dbt_results:
        if is_emitted(result):
            instance = dbt_run_instance(result, warehouse, runs)
            sibling = warehouse.get(result.dataset) if result.dataset else None
            made_from = (result, sibling, instance.type)  # plain values: what --state hashes
            found.append((str(instance.urn), made_from, partial(dbt_run_mcps, result, instance)))
    return found


def dbt_run_instance(
    result: DbtResult, warehouse: Mapping[DatasetKey, DatasetKey], runs: Mapping[RunKey, Run]
) -> DataProcessInstance:
    dataset = result.dataset
    assert dataset is not None
    parent = runs.get(result.parent_run) if result.parent_run else None
    outputs = [dataset, *([warehouse[dataset]] if dataset in warehouse else [])]
    return DataProcessInstance(
        id=instance_id(result),
        orchestrator=ORCHESTRATOR,
        cluster=None,
        type=process_type(parent) if parent else DataProcessTypeClass.BATCH_AD_HOC,
        template_urn=DatasetUrn.from_string(urn_of(dataset)),
        parent_instance=instance_urn(result.parent_run) if result.parent_run else None,
        properties=properties(result),
        outlets=[DatasetUrn.from_string(urn_of(key)) for key in outputs],
        data_platform_instance=dataset.platform_instance,
    )


def properties(result: DbtResult) -> dict[str, str]:
    """What dbt said of the execution; its message redacted (an error may quote a connection string)."""
    message = Redactor()(result.message)[:MESSAGE_LIMIT] if result.message else None
    given = {
        "dbt_name": result.unique_id,
        "dbt_urn": urn_of(result.dataset) if result.dataset else None,
        "invocation_id": result.invocation_id,
        "command": result.command,
        "unique_id": result.unique_id,
        "status": result.status,
        "execution_time": f"{result.execution_time:.3f}",
        "failures": str(result.failures) if result.failures is not None else None,
        "message": message,
    }
    return {k: v for k, v in sorted(given.items()) if v}


def dbt_run_mcps(result: DbtResult, instance: DataProcessInstance) -> list[MetadataChangeProposalWrapper]:
    # `created` must be given: DataHub would otherwise stamp the wall clock and the output would wobble.
    created = result.start_ms or result.end_ms or 1
    mcps = list(instance.generate_mcp(created_ts_millis=created, materialize_iolets=False))
    if result.start_ms is not None:
        mcps += instance.start_event_mcp(result.start_ms)
    outcome = STATUS_RESULTS.get(result.status.lower())
    if outcome is not None and result.end_ms is not None:
        mcps += instance.end_event_mcp(result.end_ms, outcome, result.status, start_timestamp_millis=result.start_ms)
    return mcps
