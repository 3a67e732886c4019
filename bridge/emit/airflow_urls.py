"""Links into the Airflow UI, right for its major version.

Airflow 3's React UI routes: /dags/<dag_id>, /dags/<dag_id>/tasks/<task_id>, /dags/<dag_id>/runs/<run_id>,
/dags/<dag_id>/runs/<run_id>/tasks/<task_id> (a task instance, its logs at ?try_number=N).
Airflow 2's Flask UI: /dags/<dag_id>/grid with `task_id`, `dag_run_id` and `tab=logs` query parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True, slots=True)
class AirflowUrls:
    base_url: str | None
    major: int | None

    def _join(self, path: str, query: dict[str, str] | None = None) -> str | None:
        if not self.base_url:
            return None
        tail = f"?{urlencode(query)}" if query else ""
        return f"{self.base_url.rstrip('/')}{path}{tail}"

    @property
    def _v3(self) -> bool:
        return (self.major or 3) >= 3

    def dag(self, dag_id: str) -> str | None:
        return self._join(f"/dags/{quote(dag_id)}") if self._v3 else self._join(f"/dags/{quote(dag_id)}/grid")

    def task(self, dag_id: str, task_id: str) -> str | None:
        if self._v3:
            return self._join(f"/dags/{quote(dag_id)}/tasks/{quote(task_id)}")
        return self._join(f"/dags/{quote(dag_id)}/grid", {"task_id": task_id})

    def run(self, dag_id: str, run_id: str) -> str | None:
        if self._v3:
            return self._join(f"/dags/{quote(dag_id)}/runs/{quote(run_id, safe='')}")
        return self._join(f"/dags/{quote(dag_id)}/grid", {"dag_run_id": run_id})

    def task_log(self, dag_id: str, run_id: str, task_id: str, attempt: int) -> str | None:
        if self._v3:
            path = f"/dags/{quote(dag_id)}/runs/{quote(run_id, safe='')}/tasks/{quote(task_id)}"
            return self._join(path, {"try_number": str(attempt)})
        return self._join(f"/dags/{quote(dag_id)}/grid", {"dag_run_id": run_id, "task_id": task_id, "tab": "logs"})
