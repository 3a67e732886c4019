"""DAG runs and task runs as DataProcessInstances.

Ids: a task run is `<dag_id>_<task_id>_<run_id>` under its job, as DataHub's Airflow plugin names it, and a
mapped task's instance adds `_<map_index>` (the plugin gives all of a mapped task's instances one id, so they
overwrite each other). A DAG run is `<dag_id>/<run_id>` under its flow: the plugin's bare `<run_id>` is one
id for every DAG's run of the same interval (Airflow 2's `scheduled__2026-01-05T00:00:00+00:00`), so the
runs of different DAGs would be one instance; and with `_` the run of DAG `ingest_fred` would be the task run
of DAG `ingest`, task `fred` (a `/` is in no dag_id or task_id: Airflow allows letters, digits, `_`, `.`, `-`).

Run types: DataHub has two batch types. A run the scheduler made (on a schedule or on assets) is
BATCH_SCHEDULED; one a person asked for (manual, backfill, an asset materialisation) is BATCH_AD_HOC, and
Airflow's own run type stays in the DAG run's properties (`run_type: backfill`).
"""

from __future__ import annotations

from datahub.api.entities.dataprocess.dataprocess_instance import DataProcessInstance, InstanceRunResult
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import DataProcessTypeClass
from datahub.metadata.urns import DataFlowUrn, DataJobUrn, DataProcessInstanceUrn, DatasetUrn

from bridge.emit.airflow import ORCHESTRATOR, flow_urn, job_urn
from bridge.emit.airflow_urls import AirflowUrls
from bridge.emit.urns import urn_of
from bridge.model.graph import JobKey, Run, RunKey

_RESULTS = {r.value: r for r in InstanceRunResult}
_SCHEDULED = frozenset({"scheduled", "dataset_triggered", "asset_triggered"})


def process_type(run: Run) -> str:
    """DataHub's type of a run; without Airflow's run type, as the plugin guesses it from the run id."""
    scheduled = run.run_type in _SCHEDULED if run.run_type else run.run_id.startswith("scheduled__")
    return DataProcessTypeClass.BATCH_SCHEDULED if scheduled else DataProcessTypeClass.BATCH_AD_HOC


def instance_id(key: RunKey) -> str:
    if key.task_id is None:
        return f"{key.dag_id}/{key.run_id}"
    mapped = f"_{key.map_index}" if key.map_index >= 0 else ""
    return f"{key.dag_id}_{key.task_id}_{key.run_id}{mapped}"


def instance_urn(key: RunKey) -> DataProcessInstanceUrn:
    """The URN of a run's instance, from its key alone (what a child run or a dbt result links to)."""
    return DataProcessInstance(id=instance_id(key), orchestrator=ORCHESTRATOR, cluster=key.cluster).urn


def dag_run_instance(run: Run, urls: AirflowUrls) -> DataProcessInstance:
    return DataProcessInstance(
        id=instance_id(run.key),
        orchestrator=ORCHESTRATOR,
        cluster=run.cluster,
        type=process_type(run),
        template_urn=DataFlowUrn.from_string(flow_urn(run.dag_id, run.cluster)),
        properties=dict(sorted(run.properties.items())),
        url=urls.run(run.dag_id, run.run_id),
    )


def task_run_instance(run: Run, urls: AirflowUrls) -> DataProcessInstance:
    assert run.task_id is not None
    return DataProcessInstance(
        id=instance_id(run.key),
        orchestrator=ORCHESTRATOR,
        cluster=run.cluster,
        type=process_type(run),
        template_urn=DataJobUrn.from_string(job_urn(JobKey(run.dag_id, run.task_id, run.cluster))),
        parent_instance=instance_urn(run.key.dag_run),
        properties=dict(sorted(run.properties.items())) | {"run_id": run.run_id},
        url=urls.task_log(run.dag_id, run.run_id, run.task_id, run.attempt, run.map_index),
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
