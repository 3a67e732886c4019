"""`read_airflow_api`: the facts of `read_airflow_db`, through Airflow's stable REST API.

Requests per read: version, the DAG listing, per DAG its details and its tasks (no bulk form exists; run
`max_workers` at a time; `dag_details: false` leaves the details out, with the versions of all DAGs read in one
listing instead), then the runs of all DAGs and their task instances (`history.py`: two batch listings,
whatever the number of runs), assets, asset events, import errors, connections and variables. Every listing
is paged, so only the DAGs add requests one by one; runs and task instances add pages.

What REST cannot give, and the DB reader can (stated in `AirflowSnapshot.limitations` and the run report):
- task groups: the task listing has no group membership (`task_group_id` stays empty);
- template-field values: only their names, until a run; the values come from the latest task instance that
  rendered them, looked for past the run-history window (`history.py`), so a never-run task is matched by
  its task id alone;
- explicit outlets and inlets are taken from the assets' `producing_tasks`/`consuming_tasks` (Airflow 2
  lists no consuming tasks, and neither lists aliases as outlets);
- Airflow 2's API gives no serialized version number.
Upstream ids come only as `downstream_task_ids` and are inverted, as the DB reader does too.

A DAG deleted between the DAG listing and its own requests (404) is left out as gone, with a `dag-gone`
warning naming it and the URL; the others are read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from bridge.config import AirflowApiConfig
from bridge.errors import AirflowApiNotFoundError
from bridge.model.airflow import (
    AirflowDag,
    AirflowSnapshot,
    Asset,
    AssetRef,
    ConnectionInfo,
    DagRuns,
    TaskInstances,
    VariableInfo,
)
from bridge.model.pattern import NamePattern
from bridge.model.report import Problem
from bridge.read.airflow_api import responses
from bridge.read.airflow_api.client import ApiClient, open_client, path_of
from bridge.read.airflow_api.history import TaskKey, read_history
from bridge.read.airflow_api.versions import Api, detect_api
from bridge.read.scope import only_allowed

LIMITATIONS = (
    "REST gives no task groups: task_group_id is empty for every task.",
    "REST gives template-field values only after a run (rendered fields of the latest task instance that "
    "rendered them); a Cosmos task that never ran is matched by its task id.",
    "REST gives explicit outlets and inlets only through the assets' producing and consuming tasks.",
    "REST gives no operator fields: the connections a task names (conn_id fields) are known from the DB only.",
)
V1_LIMITATION = "Airflow 2's REST API lists no consuming tasks (inlets) and no serialized version numbers."
NO_DETAILS = "airflow_api.dag_details is off: no DAG's doc_md is read (it is only in each DAG's details)."


def read_airflow_api(
    config: AirflowApiConfig,
    since: str | None = None,
    client: ApiClient | None = None,
    dags_read: NamePattern | None = None,
) -> AirflowSnapshot:
    """Read everything; `since`: ISO time run history is read from (None: no run history); `dags_read`:
    which dag_ids are read (the others are dropped from the listing, before their details are fetched)."""
    client = client or open_client(config)
    api, version = detect_api(client)
    client.prefix = api.prefix
    dag_summaries = client.listing("/dags", "dags", {"only_active": "true"} if api.major == 2 else None)
    if dags_read is not None and not dags_read.allows_all:
        dag_summaries = [s for s in dag_summaries if dags_read.allowed(str(s.get("dag_id", "")))]
    versions = {} if config.dag_details or api.major == 2 else latest_versions(client)
    with ThreadPoolExecutor(max_workers=max(1, config.max_workers)) as pool:
        read = list(pool.map(lambda s: read_listed_dag(client, s, config.dag_details, versions), dag_summaries))
    dags = {dag.dag_id: dag for dag in read if isinstance(dag, AirflowDag)}
    gone = [problem for problem in read if isinstance(problem, Problem)]
    history = read_history(client, api, list(dags), since, templated_tasks(dags))
    raw_events = read_events(client, api, since)
    events = tuple(responses.asset_event(raw) for raw in raw_events)
    assets = with_event_assets(read_assets(client, api), raw_events)
    limitations = (
        LIMITATIONS + ((V1_LIMITATION,) if api.major == 2 else ()) + ((NO_DETAILS,) if not config.dag_details else ())
    )
    snapshot = AirflowSnapshot(
        source="api",
        airflow_version=version,
        schema_revision=None,
        dags=with_asset_links(with_rendered_fields(dags, history.rendered), assets),
        assets=assets,
        asset_events=events,
        dag_runs=DagRuns(history.runs),
        task_instances=TaskInstances(history.instances),
        import_errors=tuple(responses.import_error(e) for e in client.listing("/importErrors", "import_errors")),
        connections=tuple(
            ConnectionInfo(c["connection_id"], c.get("conn_type"), c.get("host") or None)
            for c in client.listing("/connections", "connections")
        ),
        variables=tuple(VariableInfo(v["key"]) for v in client.listing("/variables", "variables")),
        problems=tuple(gone) + tuple(Problem("rest-client", "warning", client.base_url, w) for w in client.warnings),
        limitations=limitations,
    )
    return snapshot if dags_read is None or dags_read.allows_all else only_allowed(snapshot, set(dags))


def read_listed_dag(
    client: ApiClient, summary: Mapping[str, Any], with_details: bool, versions: Mapping[str, int]
) -> AirflowDag | Problem:
    """A DAG of the listing (`read_dag`), or, when the server no longer has it (404: deleted after the listing was
    read), a warning that it is left out as gone."""
    try:
        return read_dag(client, summary, with_details, versions)
    except AirflowApiNotFoundError as exc:
        dag_id = summary["dag_id"]
        message = (
            f"{exc} The DAG was listed, then deleted before it was read: it is left out as gone; the other DAGs are "
            "read."
        )
        return Problem("dag-gone", "warning", f"dag {dag_id}", message)


def read_dag(
    client: ApiClient, summary: Mapping[str, Any], with_details: bool = True, versions: Mapping[str, int] | None = None
) -> AirflowDag:
    """One DAG from its listing entry, its tasks and (`with_details`) its details (documentation, version): the
    requests per DAG that have no bulk form."""
    dag_id = summary["dag_id"]
    details = client.get(path_of("dags", dag_id, "details")) if with_details else {}
    tasks = client.get(path_of("dags", dag_id, "tasks"))["tasks"]
    return responses.dag(summary, details, tasks, (versions or {}).get(dag_id))


def latest_versions(client: ApiClient) -> dict[str, int]:
    """dag_id -> its latest version number, from the listing of every DAG's versions (Airflow 3)."""
    latest: dict[str, int] = {}
    for item in client.listing(path_of("dags", "~", "dagVersions"), "dag_versions"):
        number = item.get("version_number")
        if isinstance(number, int) and number > latest.get(item.get("dag_id", ""), 0):
            latest[item["dag_id"]] = number
    return latest


def templated_tasks(dags: Mapping[str, AirflowDag]) -> dict[str, list[str]]:
    """dag_id -> its tasks with template fields (the task listing names them): those whose values are looked for."""
    templated = {dag_id: [t for t, task in dag.tasks.items() if task.template_fields] for dag_id, dag in dags.items()}
    return {dag_id: task_ids for dag_id, task_ids in templated.items() if task_ids}


def with_rendered_fields(
    dags: dict[str, AirflowDag], rendered: Mapping[TaskKey, Mapping[str, Any]]
) -> dict[str, AirflowDag]:
    """Each task with the template-field values its latest task instance rendered (REST has no other source);
    without one, a task with template fields keeps no values, and says that they are unknown (a task without
    template fields has none to know)."""
    return {
        dag_id: replace(
            dag,
            tasks={
                task_id: replace(
                    task,
                    template_fields=responses.template_values(
                        task.template_fields, rendered.get((dag_id, task_id), {})
                    ),
                    template_values_known=(dag_id, task_id) in rendered or not task.template_fields,
                )
                for task_id, task in dag.tasks.items()
            },
        )
        for dag_id, dag in dags.items()
    }


def read_assets(client: ApiClient, api: Api) -> dict[str, Asset]:
    assets = {a.uri: a for a in (responses.asset(raw) for raw in client.listing(api.assets, api.assets_key))}
    return dict(sorted(assets.items()))


def with_event_assets(assets: dict[str, Asset], events: Iterable[Mapping[str, Any]]) -> dict[str, Asset]:
    """Assets only events name (Cosmos' outputs, referenced by no DAG) are hidden from the default asset
    listing as inactive; the DB's asset table has them, so they are added here from the events."""
    found = dict(assets)
    for event in events:
        uri = event.get("uri") or event.get("dataset_uri")
        if uri and uri not in found:
            found[uri] = Asset(uri=uri, name=event.get("name"), group=event.get("group") or None)
    return dict(sorted(found.items()))


def with_asset_links(dags: dict[str, AirflowDag], assets: Mapping[str, Asset]) -> dict[str, AirflowDag]:
    """Outlets, inlets and asset schedules from the assets' task and DAG references (as the reference tables)."""
    outlets: dict[tuple[str, str], list[AssetRef]] = {}
    inlets: dict[tuple[str, str], list[AssetRef]] = {}
    schedules: dict[str, list[AssetRef]] = {}
    for asset in assets.values():
        ref = AssetRef(asset.uri, asset.name)
        for pair in asset.producing_tasks:
            outlets.setdefault(pair, []).append(ref)
        for pair in asset.consuming_tasks:
            inlets.setdefault(pair, []).append(ref)
        for dag_id in asset.scheduled_dags:
            schedules.setdefault(dag_id, []).append(ref)
    out = {}
    for dag_id, dag in sorted(dags.items()):
        tasks = {
            task_id: replace(
                task,
                outlets=tuple(outlets.get((dag_id, task_id), ())),
                inlets=tuple(inlets.get((dag_id, task_id), ())),
            )
            for task_id, task in dag.tasks.items()
        }
        out[dag_id] = replace(dag, tasks=tasks, schedule_assets=tuple(schedules.get(dag_id, ())))
    return out


def read_events(client: ApiClient, api: Api, since: str | None) -> list[Mapping[str, Any]]:
    """Asset events (raw) since `since`: filtered by the server where it can (v2), and here. Each event once:
    Airflow 2 orders its listing by timestamp only, so events of one time may come on two pages."""
    params = {"timestamp_gte": since} if since and api.filters_events else None
    events = client.listing(api.events, api.events_key, params)  # each once, by id (`client.item_identity`)
    return [e for e in events if since is None or responses.not_before(e.get("timestamp"), since)]
