from __future__ import annotations

from bridge.model.airflow import AirflowDag, AirflowTask, AssetRef

LOCAL = "cosmos.operators.local"


def cosmos(task_id: str, operator: str, downstream: tuple[str, ...] = (), **fields: object) -> AirflowTask:
    return AirflowTask(task_id, operator, LOCAL, downstream_task_ids=downstream, template_fields=fields)


def plain(
    task_id: str, operator: str = "PythonOperator", downstream: tuple[str, ...] = (), **kwargs: object
) -> AirflowTask:
    module = "airflow.providers.standard.operators.python"
    return AirflowTask(task_id, operator, module, downstream_task_ids=downstream, **kwargs)  # type: ignore[arg-type]


def dag(dag_id: str, *tasks: AirflowTask, **kwargs: object) -> AirflowDag:
    return AirflowDag(dag_id, {t.task_id: t for t in tasks}, **kwargs)  # type: ignore[arg-type]


def outlet(uri: str) -> AssetRef:
    return AssetRef(uri)
