"""Links into the Airflow UI, right for its major version (unknown: Airflow 3, the line teams are on).

Airflow 3 (React UI, `airflow-core/src/airflow/ui/src/router.tsx`): `dags/:dagId`, `dags/:dagId/tasks/:taskId`,
`dags/:dagId/runs/:runId`, `dags/:dagId/runs/:runId/tasks/:taskId` (a task instance; logs are its default
tab) and `.../tasks/:taskId/mapped/:mapIndex`. Airflow 3's own `TaskInstance.log_url` is
`{base}/dags/{dag_id}/runs/{quote(run_id)}/tasks/{task_id}[/mapped/{i}][?try_number={n}]`.

Airflow 2 (Flask UI): everything hangs off the grid view. Airflow 2.10's `TaskInstance.log_url` is
`{base}/dags/{dag_id}/grid?dag_run_id={quote(run_id)}&task_id={task_id}[&map_index={i}]&base_date=..&tab=logs`
(`base_date` only positions the grid; we leave it out). DataHub's Airflow plugin links tasks as
`{base}/dags/{dag_id}/grid?task_id={task_id}` (its `datajob_url_link: grid`).

Like Airflow, ids of DAGs and tasks go into the path as they are and run ids are quoted (`quote`, `/` kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True, slots=True)
class AirflowUrls:
    base_url: str | None
    major: int | None

    def _link(self, path: str) -> str | None:
        return f"{self.base_url.rstrip('/')}{path}" if self.base_url else None

    @property
    def _v3(self) -> bool:
        return (self.major or 3) >= 3

    def dag(self, dag_id: str) -> str | None:
        return self._link(f"/dags/{dag_id}" if self._v3 else f"/dags/{dag_id}/grid")

    def task(self, dag_id: str, task_id: str) -> str | None:
        return self._link(f"/dags/{dag_id}/tasks/{task_id}" if self._v3 else f"/dags/{dag_id}/grid?task_id={task_id}")

    def run(self, dag_id: str, run_id: str) -> str | None:
        if self._v3:
            return self._link(f"/dags/{dag_id}/runs/{quote(run_id)}")
        return self._link(f"/dags/{dag_id}/grid?dag_run_id={quote(run_id)}")

    def task_log(self, dag_id: str, run_id: str, task_id: str, attempt: int, map_index: int = -1) -> str | None:
        """The task instance's log, as Airflow's own `TaskInstance.log_url` of that major version."""
        if self._v3:
            mapped = f"/mapped/{map_index}" if map_index >= 0 else ""
            try_number = f"?try_number={attempt}" if attempt > 0 else ""
            return self._link(f"/dags/{dag_id}/runs/{quote(run_id)}/tasks/{task_id}{mapped}{try_number}")
        mapped = f"&map_index={map_index}" if map_index >= 0 else ""
        return self._link(f"/dags/{dag_id}/grid?dag_run_id={quote(run_id)}&task_id={task_id}{mapped}&tab=logs")
