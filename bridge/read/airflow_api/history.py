"""Run history in bulk: the runs of every DAG read in one paged batch listing and their task instances in
another, so a read asks as often for ten runs as for ten thousand (only with more pages).

- `POST /dags/~/dagRuns/list` (v1 and v2): `dag_ids` (the DAGs read), `start_date_gte` (the watermark) and
  `order_by: id`, a unique key, so pages do not shift while they are read.
- `POST /dags/~/dagRuns/~/taskInstances/list` (v1 and v2; Airflow 3.1's GET listings answer empty rendered
  fields): `dag_ids` and, with a watermark, the chosen runs' earliest `run_after` (v2) / `execution_date` (v1),
  a body that does not grow with runs; without one, the latest runs' `dag_run_ids`. `order_by: id` on v2;
  Airflow 2's listing takes no order at all.
- Each item is kept once by its identity: a listing that moved while it was read (Airflow 2's unordered one,
  or a retried Airflow 3 task instance, which gets a new id) may show one twice, dropped here, or skip one,
  which is said in the run report.
The same filters are applied here too: the instances of runs not chosen are dropped, whatever the server sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.model.airflow import DagRun, TaskInstance
from bridge.read.airflow_api import responses
from bridge.read.airflow_api.client import ApiClient
from bridge.read.airflow_api.versions import Api
from bridge.times import iso, utc

RUNS = "/dags/~/dagRuns/list"
INSTANCES = "/dags/~/dagRuns/~/taskInstances/list"

Raw = Mapping[str, Any]
Listed = tuple[DagRun, Raw]
Instance = tuple[TaskInstance, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class History:
    """The runs read and the task instances of the chosen runs, each with the template fields it rendered."""

    runs: tuple[DagRun, ...] = ()
    instances: tuple[Instance, ...] = ()


def read_history(client: ApiClient, api: Api, dag_ids: Sequence[str], since: str | None) -> History:
    """Runs that started at or after `since`, with their task instances. Without `since` no run is kept, but
    each DAG's latest run is still chosen for its task instances' rendered fields (Cosmos' selectors)."""
    if not dag_ids:
        return History()  # an empty `dag_ids` means every DAG to the server
    listed = read_runs(client, dag_ids, since)
    chosen = latest_runs(listed) if since is None else runs_since(listed, since)
    if not chosen:
        return History()
    instances = read_instances(client, api, [raw for _, raw in chosen], since)
    runs = sorted((run for run, _ in chosen), key=lambda run: run.dag_id) if since is not None else []
    return History(tuple(runs), instances)


def read_runs(client: ApiClient, dag_ids: Sequence[str], since: str | None) -> list[Listed]:
    """The DAGs' runs in the order they were made; with `since`, those started at or after it."""
    body: dict[str, object] = {"dag_ids": list(dag_ids), "order_by": "id"}
    if since is not None:
        body["start_date_gte"] = iso(since)
    raws = once_each(client, RUNS, "dag_runs", body, lambda raw: (raw["dag_id"], raw["dag_run_id"]))
    return [(responses.dag_run(raw), raw) for raw in raws]


def runs_since(listed: Sequence[Listed], since: str) -> list[Listed]:
    """The runs that started at or after `since` (the server filtered them already, unless it ignored that)."""
    return [(run, raw) for run, raw in listed if responses.not_before(run.start_us, since)]


def latest_runs(listed: Sequence[Listed]) -> list[Listed]:
    """Each DAG's latest run by start (else logical) date; of equal ones, the one made last."""
    latest: dict[str, Listed] = {}
    for run, raw in listed:
        kept = latest.get(run.dag_id)
        if kept is None or _started(run) >= _started(kept[0]):
            latest[run.dag_id] = (run, raw)
    return list(latest.values())


def _started(run: DagRun) -> int:
    """Start, else logical date, in epoch microseconds (a run with neither: earliest)."""
    started = run.start_us if run.start_us is not None else run.logical_us
    return started if started is not None else -(2**63)


def read_instances(client: ApiClient, api: Api, chosen: Sequence[Raw], since: str | None) -> tuple[Instance, ...]:
    """The chosen runs' task instances with their rendered fields, ordered as the DB reader orders them."""
    wanted = {(raw["dag_id"], raw["dag_run_id"]) for raw in chosen}
    body = instance_filter(api, chosen, since)
    raws = once_each(client, INSTANCES, "task_instances", body, _instance_identity)
    instances = [
        (responses.task_instance(raw), raw.get("rendered_fields") or {})
        for raw in raws
        if (raw["dag_id"], raw["dag_run_id"]) in wanted
    ]
    return tuple(sorted(instances, key=lambda pair: _order(pair[0])))


def _order(ti: TaskInstance) -> tuple[str, str, str, int]:
    return ti.dag_id, ti.run_id, ti.task_id, ti.map_index


def _instance_identity(raw: Raw) -> tuple[object, ...]:
    return raw["dag_id"], raw["dag_run_id"], raw["task_id"], raw.get("map_index", -1)


def instance_filter(api: Api, chosen: Sequence[Raw], since: str | None) -> dict[str, object]:
    """The body selecting the chosen runs' task instances, or a few more (dropped after reading): by DAG and,
    with a watermark, from the earliest run time on; without one (or a run without that time), by run id."""
    body: dict[str, object] = {"dag_ids": sorted({raw["dag_id"] for raw in chosen})}
    if api.orders_instances:
        body["order_by"] = "id"
    times = [str(raw[api.run_time]) for raw in chosen if raw.get(api.run_time)]
    if since is None or len(times) < len(chosen):
        return body | {"dag_run_ids": sorted({raw["dag_run_id"] for raw in chosen})}
    return body | {f"{api.run_time}_gte": iso(min(times, key=utc))}


def once_each(
    client: ApiClient, path: str, key: str, body: Mapping[str, object], identity: Callable[[Raw], tuple[object, ...]]
) -> list[Raw]:
    """A batch listing read whole, each item once (as first seen). Fewer items than the server counted means
    the listing moved while it was read: said in the run report, since a run or task instance may be missing."""
    found: dict[tuple[object, ...], Raw] = {}
    total = 0
    for page in client.pages(path, key, body=body):
        total = page.total
        for item in page.items:
            found.setdefault(identity(item), item)
    if len(found) < total:
        client.warnings.append(
            f"Airflow API POST {client.url(path)}: {len(found)} of the {total} {key} listed were read; the listing "
            "changed between its pages, so some may be missing from the run history. Run the sync again, or raise "
            "airflow_api.page_size so the listing needs fewer pages."
        )
    return list(found.values())
