"""Run history in bulk: the runs of every DAG read in one paged batch listing and their task instances in
another, so a read asks as often for ten runs as for ten thousand (only with more pages).

- `POST /dags/~/dagRuns/list` (v1 and v2): `dag_ids` (the DAGs read), `start_date_gte` (the watermark) and
  `order_by: id`, a unique key, so pages do not shift while they are read.
- `POST /dags/~/dagRuns/~/taskInstances/list` (v1 and v2; Airflow 3.1's GET listings answer empty rendered
  fields): `dag_ids` and, with a watermark, the chosen runs' earliest `run_after` (v2) / `execution_date` (v1),
  a body that does not grow with runs; without one, the latest runs' `dag_run_ids`. `order_by: id` on v2;
  Airflow 2's listing takes no order at all.
- Each item is kept once by its identity: a listing that moved while it was read (Airflow 2's unordered one,
  or a retried Airflow 3 task instance, which gets a new id) is read again (`ApiClient.pages`); fewer items than
  the server counted is said in the run report.
- Template values (Cosmos' selectors) do not depend on the window: each task's come from its latest task
  instance that rendered any, however old. The window's instances give most; for the tasks still without, the
  runs before are walked newest first (`order_by: -id`, no watermark), and in rounds the newest unread run of
  each DAG that still lacks some has its task instances read in one batch listing, until every task is found,
  each DAG had `LOOK_BACK_RUNS` runs read, or no run is left. Requests grow with rounds, never per DAG or task.
The same filters are applied here too: the instances of runs not chosen are dropped, whatever the server sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.model.airflow import DagRun, TaskInstance
from bridge.read.airflow_api import responses
from bridge.read.airflow_api.client import ApiClient
from bridge.read.airflow_api.versions import Api
from bridge.times import iso, utc

RUNS = "/dags/~/dagRuns/list"
INSTANCES = "/dags/~/dagRuns/~/taskInstances/list"
# Airflow keeps the rendered fields of each task's latest 30 instances (`[core]
# max_num_rendered_ti_fields_per_task`): runs older than that have none to give.
LOOK_BACK_RUNS = 30

Raw = Mapping[str, Any]
Listed = tuple[DagRun, Raw]
Instance = tuple[TaskInstance, Mapping[str, Any]]
TaskKey = tuple[str, str]
Rendered = dict[TaskKey, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class History:
    """The runs read and the task instances of the chosen runs; `rendered`: (dag_id, task_id) -> the template
    fields its latest task instance rendered (of any run, for the tasks asked about)."""

    runs: tuple[DagRun, ...] = ()
    instances: tuple[TaskInstance, ...] = ()
    rendered: Mapping[TaskKey, Mapping[str, Any]] = field(default_factory=dict)


def read_history(
    client: ApiClient,
    api: Api,
    dag_ids: Sequence[str],
    since: str | None,
    templated: Mapping[str, Collection[str]] | None = None,
) -> History:
    """Runs that started at or after `since` with their task instances (none without `since`), and the latest
    rendered fields of each task: those `templated` names (dag_id -> task ids with template fields) looked for
    past the window too, so they do not depend on it."""
    if not dag_ids:
        return History()  # an empty `dag_ids` means every DAG to the server
    chosen = runs_since(read_runs(client, dag_ids, since), since) if since is not None else []
    instances = read_instances(client, api, [raw for _, raw in chosen], since) if chosen else ()
    rendered = latest_rendered(instances)
    wanted = still_wanted(templated or {}, rendered)
    rendered = {**look_back(client, api, wanted, {(run.dag_id, run.run_id) for run, _ in chosen}), **rendered}
    runs = sorted((run for run, _ in chosen), key=lambda run: run.dag_id)
    return History(tuple(runs), tuple(ti for ti, _ in instances), rendered)


def read_runs(client: ApiClient, dag_ids: Sequence[str], since: str) -> list[Listed]:
    """The DAGs' runs that started at or after `since`, in the order they were made."""
    body: dict[str, object] = {"dag_ids": list(dag_ids), "order_by": "id", "start_date_gte": iso(since)}
    raws = once_each(client, RUNS, "dag_runs", body, lambda raw: (raw["dag_id"], raw["dag_run_id"]))
    return [(responses.dag_run(raw), raw) for raw in raws]


def runs_since(listed: Sequence[Listed], since: str) -> list[Listed]:
    """The runs that started at or after `since` (the server filtered them already, unless it ignored that)."""
    return [(run, raw) for run, raw in listed if responses.not_before(run.start_us, since)]


def latest_rendered(instances: Sequence[Instance]) -> Rendered:
    """(dag_id, task_id) -> the fields its latest (by start) task instance rendered; instances that rendered
    nothing (not run, failed before rendering) give none."""
    latest: dict[TaskKey, tuple[int, Mapping[str, Any]]] = {}
    for ti, rendered in instances:
        when, key = ti.start_us if ti.start_us is not None else -(2**63), (ti.dag_id, ti.task_id)
        if rendered and (key not in latest or when > latest[key][0]):
            latest[key] = (when, rendered)
    return {key: rendered for key, (_, rendered) in latest.items()}


def still_wanted(templated: Mapping[str, Collection[str]], found: Mapping[TaskKey, object]) -> dict[str, set[str]]:
    """dag_id -> its task ids whose rendered fields are not found yet (DAGs with none left out)."""
    wanted = {dag_id: {t for t in task_ids if (dag_id, t) not in found} for dag_id, task_ids in templated.items()}
    return {dag_id: task_ids for dag_id, task_ids in wanted.items() if task_ids}


def look_back(client: ApiClient, api: Api, wanted: dict[str, set[str]], read: Collection[TaskKey]) -> Rendered:
    """The rendered fields of the `wanted` tasks (only those, each from its newest run that rendered them) from
    the runs not `read` yet, newest first (module docstring): the still-wanting DAGs' runs in pages, each page's
    runs in rounds of one run per DAG. A listing shows at most `LOOK_BACK_RUNS` runs per DAG it lists; when
    DAGs stop wanting, the others are listed again without them (their older runs come sooner)."""
    found: Rendered = {}
    looked: Counter[str] = Counter()
    seen = set(read)
    while wanted:
        listed = sorted(wanted)
        budget = LOOK_BACK_RUNS * len(listed)
        body = {"dag_ids": listed, "order_by": "-id"}
        for page in client.pages(RUNS, "dag_runs", body=body, whole=False):  # new runs push older ones back
            budget -= len(page.items)
            fresh = [raw for raw in page.items if (raw["dag_id"], raw["dag_run_id"]) not in seen]
            seen.update((raw["dag_id"], raw["dag_run_id"]) for raw in fresh)
            waiting = _runs_by_dag(fresh)
            while batch := _next_round(waiting, wanted, looked):
                for key, fields in latest_rendered(read_instances(client, api, batch, None)).items():
                    if key[1] in wanted.get(key[0], ()):
                        found.setdefault(key, fields)
                wanted = {d: ts for d, ts in still_wanted(wanted, found).items() if looked[d] < LOOK_BACK_RUNS}
            if sorted(wanted) != listed or budget <= 0:
                break  # fewer DAGs to list, or as many runs as this listing may show
        else:
            break  # the listing ended: no older run is left
        if sorted(wanted) == listed:
            break  # the budget is spent on DAGs that never rendered some task
    return found


def _runs_by_dag(raws: Sequence[Raw]) -> dict[str, list[Raw]]:
    by_dag: dict[str, list[Raw]] = {}
    for raw in raws:
        by_dag.setdefault(raw["dag_id"], []).append(raw)
    return by_dag


def _next_round(waiting: dict[str, list[Raw]], wanted: Mapping[str, object], looked: Counter[str]) -> list[Raw]:
    """The next unread run (in listing order: newest first) of each DAG still wanting some, counted as looked at."""
    batch = [waiting[dag_id].pop(0) for dag_id in sorted(wanted) if waiting.get(dag_id)]
    looked.update(raw["dag_id"] for raw in batch)
    return batch


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
    """A batch listing read whole, each item once (as first seen: `ApiClient.pages`). Fewer items than the server
    counted means the listing moved while it was read: said in the run report, since a run or task instance may
    be missing."""
    found: list[Raw] = []
    total = 0
    for page in client.pages(path, key, body=body, identity=identity):
        total = page.total
        found += page.items
    if len(found) < total:
        client.warnings.append(
            f"Airflow API POST {client.url(path)}: {len(found)} of the {total} {key} listed were read; the listing "
            "changed between its pages, so some may be missing from the run history. Run the sync again, or raise "
            "airflow_api.page_size so the listing needs fewer pages."
        )
    return found
