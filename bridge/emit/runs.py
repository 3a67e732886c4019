"""DAG runs and task runs as DataProcessInstances, with the ids DataHub's Airflow plugin uses:
a DAG run is `<run_id>` under its flow, a task run `<dag_id>_<task_id>_<run_id>` under its job."""

from __future__ import annotations

from datahub.api.entities.dataprocess.dataprocess_instance import DataProcessInstance, InstanceRunResult
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import DataProcessTypeClass
from datahub.metadata.urns import DataFlowUrn, DataJobUrn, DatasetUrn

from bridge.emit.airflow import ORCHESTRATOR, flow_urn, job_urn
from bridge.emit.airflow_urls import AirflowUrls
from bridge.emit.urns import urn_of
from bridge.model.graph import JobKey, Run

_RESULTS = {r.value: r for r in InstanceRunResult}


def dag_run_instance(run: Run, urls: AirflowUrls) -> DataProcessInstance:
    return DataProcessInstance(
        id=run.run_id,
        orchestrator=ORCHESTRATOR,
        cluster=run.cluster,
        type=DataProcessTypeClass.BATCH_SCHEDULED
        if run.properties.get("run_type") == "scheduled"
        else DataProcessTypeClass.BATCH_AD_HOC,
        template_urn=DataFlowUrn.from_string(flow_urn(run.dag_id, run.cluster)),
        properties=dict(sorted(run.properties.items())),
        url=urls.run(run.dag_id, run.run_id),
    )


def task_run_instance(run: Run, urls: AirflowUrls) -> DataProcessInstance:
    assert run.task_id is not None
    parent = dag_run_instance(Run(run.run_id, run.dag_id, None, run.cluster, "", None, None, None), urls)
    return DataProcessInstance(
        id=f"{run.dag_id}_{run.task_id}_{run.run_id}",
        orchestrator=ORCHESTRATOR,
        cluster=run.cluster,
        template_urn=DataJobUrn.from_string(job_urn(JobKey(run.dag_id, run.task_id, run.cluster))),
        parent_instance=parent.urn,
        properties=dict(sorted(run.properties.items())) | {"run_id": run.run_id},
        url=urls.task_log(run.dag_id, run.run_id, run.task_id, run.attempt),
        inlets=[DatasetUrn.from_string(urn_of(k)) for k in run.inputs],
        outlets=[DatasetUrn.from_string(urn_of(k)) for k in run.outputs],
    )


def run_instance(run: Run, urls: AirflowUrls) -> DataProcessInstance:
    return task_run_instance(run, urls) if run.task_id else dag_run_instance(run, urls)


def run_mcps(run: Run, instance: DataProcessInstance) -> list[MetadataChangeProposalWrapper]:
    # `created` must be given: DataHub would otherwise stamp the wall clock and the output would wobble.
    created = run.start_ms or run.end_ms or 1
    mcps = list(instance.generate_mcp(created_ts_millis=created, materialize_iolets=False))
    if run.start_ms is not None:
        mcps += instance.start_event_mcp(run.start_ms, attempt=run.attempt)
    if run.status == "COMPLETE" and run.result in _RESULTS and run.end_ms is not None:
        (end,) = instance.end_event_mcp(
            run.end_ms, _RESULTS[run.result], ORCHESTRATOR, attempt=run.attempt, start_timestamp_millis=run.start_ms
        )
        if run.start_ms is None and run.duration_ms is not None:  # seen finished: its times are unknown
            end.aspect.durationMillis = run.duration_ms  # type: ignore[union-attr]
        mcps.append(end)
    return mcps
