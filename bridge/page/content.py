"""What the lineage page draws, as plain data: nodes, edges, groups, domains and problems (pure).

The page shows the joined graph the way people read it: an Airflow DAG, its tasks, the dbt model a Cosmos task
runs, the warehouse table that model is (its sibling), and the DAGs and tasks that read the table. Tasks are
grouped under their DAG and datasets under their schema (or folder), so a graph of thousands of nodes opens as
a few dozen groups. URNs come from the caller (`PageUrns`, the emitter's functions) so this module stays free
of DataHub's classes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.emit.airflow_urls import AirflowUrls
from bridge.model.dbt import RELATION_TYPES
from bridge.model.graph import Dataset, DatasetKey, Flow, Job, JobKey, LineageGraph, Run
from bridge.model.report import Problem, RunReport

# Graphs up to this many nodes open with every group open; larger ones open collapsed.
OPEN_UP_TO = 250

# Colours for domains, in order of the domains' ids (Tableau 10, readable on white with dark text).
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac", "#86bcb6", "#d4a6c8", "#a0cbe8", "#ffbe7d", "#8cd17d", "#f1ce63")  # fmt: skip
NO_DOMAIN_COLOUR = "#d9d9d9"

NO_LINKS = AirflowUrls(None, None)
_KINDS = {"Model": "model", "Seed": "seed", "Snapshot": "snapshot", "Source": "source"}
_TABLES = frozenset({"Table", "View"})  # a warehouse dataset's subtype; files and other assets are assets


@dataclass(frozen=True, slots=True)
class PageUrns:
    """How entities are named in DataHub (the emitter's URN functions), and linked in Airflow's UI."""

    dataset: Callable[[DatasetKey], str]
    flow: Callable[[str, str], str]
    job: Callable[[JobKey], str]
    airflow: AirflowUrls = NO_LINKS


def dataset_id(key: DatasetKey) -> str:
    return f"ds:{key.platform}:{key.platform_instance or ''}:{key.name}"


def flow_id(dag_id: str) -> str:
    return f"dag:{dag_id}"


def job_id(key: JobKey) -> str:
    return f"task:{key.dag_id}:{key.task_id}"


def container(key: DatasetKey) -> str:
    """The schema (`db.schema` of `db.schema.table`) or folder (`bucket/path` of a file) a dataset is in."""
    if "/" in key.name:
        folder = key.name.rsplit("/", 1)[0]
        return f"{key.platform}://{folder}"
    return key.name.rsplit(".", 1)[0] if "." in key.name else key.platform


def page_content(graph: LineageGraph, report: RunReport | None, urns: PageUrns, title: str) -> dict[str, Any]:
    """Everything the page needs, as JSON-ready data. Same graph, same content (sorted throughout)."""
    domains = sorted({d.domain_id for d in graph.domains} | _used_domains(graph))
    colours = {domain: PALETTE[i % len(PALETTE)] for i, domain in enumerate(domains)}
    names = {d.domain_id: d.name for d in graph.domains}
    facts = _Facts(graph, urns.airflow)
    nodes = [_flow_node(flow, urns, facts) for flow in graph.flows]
    nodes += [_job_node(job, urns, facts) for job in graph.jobs]
    nodes += [_dataset_node(dataset, urns, facts) for dataset in graph.datasets]
    known = {node["id"] for node in nodes}
    problems = report.problems if report is not None else graph.problems
    failure = [report.failure] if report is not None and report.failure is not None else []
    places = _ProblemPlaces(graph)
    problem_rows = [_problem_row(problem, known, places) for problem in (*failure, *problems)]
    by_node: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(problem_rows):
        for node_id in row["nodes"]:
            by_node[node_id].append(index)
    for node in nodes:
        node["problems"] = by_node.get(node["id"], [])
    groups = _groups(nodes)
    return {
        "title": title,
        "counts": _counts(graph, nodes),
        "nodes": nodes,
        "edges": _edges(graph, known),
        "groups": groups,
        "domains": [{"id": d, "name": names.get(d, d), "colour": colours[d]} for d in domains],
        "no_domain_colour": NO_DOMAIN_COLOUR,
        "problems": problem_rows,
        "open": len(nodes) <= OPEN_UP_TO,
    }


def _used_domains(graph: LineageGraph) -> set[str]:
    items: Iterable[Flow | Job | Dataset] = (*graph.flows, *graph.jobs, *graph.datasets)
    return {item.domain for item in items if item.domain}


class _Facts:
    """What the nodes show beside their own fields: the latest run of each DAG and task, the latest dbt
    execution of each dbt dataset, the tasks writing each dataset, each dataset's dbt tests."""

    def __init__(self, graph: LineageGraph, links: AirflowUrls) -> None:
        self.links = links
        self.writers: dict[DatasetKey, list[JobKey]] = defaultdict(list)
        for job in graph.jobs:
            for key in job.outputs:
                self.writers[key].append(job.key)
        self.tests = _tests(graph)
        self.dag: dict[str, Run] = {}
        self.task: dict[tuple[str, str], Run] = {}
        for run in graph.runs:
            if run.task_id is None:
                _keep_latest(self.dag, run.dag_id, run)
            else:
                _keep_latest(self.task, (run.dag_id, run.task_id), run)
        self.dbt: dict[DatasetKey, dict[str, Any]] = {}
        for result in graph.dbt_results:
            if result.dataset is None or not result.is_execution:
                continue
            seen = self.dbt.get(result.dataset)
            if seen is None or _started(result.start_ms, result.end_ms) >= _started(seen["start_ms"], seen["end_ms"]):
                by = f"dbt {result.command or 'run'}"
                self.dbt[result.dataset] = {"state": result.status, "start_ms": result.start_ms,
                                            "end_ms": result.end_ms, "by": by}  # fmt: skip

    def of_task(self, key: JobKey) -> dict[str, Any] | None:
        run = self.task.get((key.dag_id, key.task_id))
        return _run_json(run, self.links) if run else None

    def of_dataset(self, dataset: Dataset) -> dict[str, Any] | None:
        """The latest of its dbt executions and the runs of the tasks writing it, counting its sibling's too
        (a dbt model and its table show the same last run)."""
        keys = (dataset.key, dataset.sibling) if dataset.sibling else (dataset.key,)
        runs = [run for job in {job for key in keys for job in self.writers.get(key, ())}
                if (run := self.of_task(job))]  # fmt: skip
        runs += [self.dbt[key] for key in keys if key in self.dbt]
        return max(runs, key=lambda run: _started(run["start_ms"], run["end_ms"]), default=None)


def _started(start_ms: int | None, end_ms: int | None) -> tuple[int, int]:
    return (start_ms or end_ms or 0, end_ms or 0)


def _keep_latest(latest: dict[Any, Run], key: Any, run: Run) -> None:
    seen = latest.get(key)
    if seen is None or _when(run) >= _when(seen):
        latest[key] = run


def _when(run: Run) -> tuple[int, int, str]:
    return (run.start_ms or 0, run.end_ms or 0, run.run_id)


def _run_json(run: Run, links: AirflowUrls) -> dict[str, Any]:
    state = run.result or ("running" if run.status == "STARTED" else run.status)
    if run.task_id is None:
        url = run.external_url or links.run(run.dag_id, run.run_id)
    else:
        url = run.external_url or links.task_log(run.dag_id, run.run_id, run.task_id, run.attempt, run.map_index)
    return {"state": state.lower(), "start_ms": run.start_ms, "end_ms": run.end_ms, "by": f"run {run.run_id}",
            "url": url}  # fmt: skip


def _flow_node(flow: Flow, urns: PageUrns, facts: _Facts) -> dict[str, Any]:
    run = facts.dag.get(flow.dag_id)
    return {
        "id": flow_id(flow.dag_id),
        "kind": "dag",
        "label": flow.dag_id,
        "group": flow_id(flow.dag_id),
        "domain": flow.domain,
        "urns": [urns.flow(flow.dag_id, flow.cluster)],
        "owners": list(flow.owners),
        "tags": list(flow.tags),
        "description": flow.description,
        "url": flow.external_url or urns.airflow.dag(flow.dag_id),
        "last_run": _run_json(run, urns.airflow) if run else None,
        "details": _details(flow.properties, ("schedule", "fileloc")),
    }


def _job_node(job: Job, urns: PageUrns, facts: _Facts) -> dict[str, Any]:
    return {
        "id": job_id(job.key),
        "kind": "task",
        "label": job.key.task_id,
        "group": flow_id(job.key.dag_id),
        "domain": job.domain,
        "urns": [urns.job(job.key)],
        "owners": list(job.owners),
        "tags": list(job.tags),
        "description": job.description,
        "url": job.external_url or urns.airflow.task(job.key.dag_id, job.key.task_id),
        "last_run": facts.of_task(job.key),
        "details": {"operator": job.operator, **({"dbt node": job.dbt_unique_id} if job.dbt_unique_id else {})},
    }


def _dataset_node(dataset: Dataset, urns: PageUrns, facts: _Facts) -> dict[str, Any]:
    key = dataset.key
    is_dbt = key.platform == "dbt"
    urn_list = [urns.dataset(key)] + ([urns.dataset(dataset.sibling)] if dataset.sibling else [])
    details = {"platform": key.platform, "subtype": dataset.subtype}
    details |= {"dbt node": dataset.dbt_unique_id} if dataset.dbt_unique_id else {}
    details |= _details(dataset.properties, ("materialization",))
    tests = facts.tests.get(key)
    if tests:
        details["dbt tests"] = tests
    return {
        "id": dataset_id(key),
        "kind": _KINDS.get(dataset.subtype, "model") if is_dbt else "table" if dataset.subtype in _TABLES else "asset",
        "label": dataset.display_name if is_dbt else key.short_name,
        "group": f"group:{container(key)}",
        "domain": dataset.domain,
        "urns": urn_list,
        "relation": dataset.properties.get("relation") or (key.name if not is_dbt else None),
        "owners": list(dataset.owners),
        "tags": list(dataset.tags),
        "description": dataset.description,
        "url": dataset.external_url,
        "last_run": facts.of_dataset(dataset),
        "details": details,
    }


def _tests(graph: LineageGraph) -> Mapping[DatasetKey, str]:
    """`3 (1 failing)`: the dbt tests of each dataset, and how many failed in their latest result."""
    total: dict[DatasetKey, int] = defaultdict(int)
    failing: dict[DatasetKey, int] = defaultdict(int)
    for assertion in graph.assertions:
        if assertion.kind != "test":
            continue
        total[assertion.assertee] += 1
        latest = max(assertion.runs, key=lambda r: r.timestamp_ms, default=None)
        if latest is not None and latest.result != "SUCCESS":
            failing[assertion.assertee] += 1
    return {key: f"{n}" + (f" ({failing[key]} failing)" if failing[key] else "") for key, n in total.items()}


def _details(properties: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    return {name: properties[name] for name in names if properties.get(name)}


def _edges(graph: LineageGraph, known: set[str]) -> list[dict[str, str]]:
    """DAG → task, task → the dbt node it runs (builds its table), dbt node ═ warehouse table, dataset → dataset
    (between two tables of dbt nodes only as their dbt nodes' edge), dataset → task reading it, task → dataset it
    writes (unless that is the sibling of the node it runs)."""
    edges: set[tuple[str, str, str]] = set()
    dbt_by_id = {d.dbt_unique_id: d for d in graph.datasets if d.dbt_unique_id and d.key.platform == "dbt"}
    for job in graph.jobs:
        task = job_id(job.key)
        edges.add((flow_id(job.key.dag_id), task, "contains"))
        node = dbt_by_id.get(job.dbt_unique_id) if job.dbt_unique_id else None
        runs = node if node is not None and node.sibling in job.outputs else None  # a test task only reads it
        if runs is not None:
            edges.add((task, dataset_id(runs.key), "runs"))
        edges.update((dataset_id(key), task, "reads") for key in job.inputs)
        edges.update((task, dataset_id(key), "writes") for key in job.outputs if not runs or key != runs.sibling)
    twins = {d.key for d in graph.datasets if d.sibling is not None and d.key.platform != "dbt"}
    for dataset in graph.datasets:
        target = dataset_id(dataset.key)
        if dataset.key in twins:  # a table of a dbt node: its dbt node's lineage says the same, drawn once
            edges.update((dataset_id(up), target, "lineage") for up in dataset.upstreams if up not in twins)
        else:
            edges.update((dataset_id(upstream), target, "lineage") for upstream in dataset.upstreams)
        if dataset.sibling is not None and dataset.key.platform == "dbt":
            edges.add((target, dataset_id(dataset.sibling), "sibling"))
    return [{"from": a, "to": b, "kind": kind} for a, b, kind in sorted(edges) if a in known and b in known]


def _groups(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A group per DAG (its tasks) and per schema or folder (its datasets); a group's domain is its members'
    when they agree."""
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for node in nodes:
        if node["kind"] != "dag":
            members[node["group"]].append(node)
    groups = []
    for group_id, inside in sorted(members.items()):
        domains = {node["domain"] for node in inside}
        groups.append({
            "id": group_id,
            "kind": "dag" if group_id.startswith("dag:") else "schema",
            "label": group_id.split(":", 1)[1],
            "size": len(inside),
            "domain": domains.pop() if len(domains) == 1 else None,
        })  # fmt: skip
    return groups


class _ProblemPlaces:
    """The page id of each dbt node's dbt dataset, and of each dataset by `platform:name` and by name."""

    def __init__(self, graph: LineageGraph) -> None:
        self.dbt = {d.dbt_unique_id: dataset_id(d.key) for d in graph.datasets
                    if d.dbt_unique_id and d.key.platform == "dbt"}  # fmt: skip
        self.named: dict[str, str] = {}
        for dataset in graph.datasets:
            self.named.setdefault(f"{dataset.key.platform}:{dataset.key.name}", dataset_id(dataset.key))
            self.named.setdefault(dataset.key.name, dataset_id(dataset.key))


def _problem_row(problem: Problem, known: set[str], places: _ProblemPlaces) -> dict[str, Any]:
    nodes = [node for node in problem_nodes(problem, places) if node in known]
    return {"severity": problem.severity, "code": problem.code, "location": problem.location,
            "message": problem.message, "nodes": nodes}  # fmt: skip


def problem_nodes(problem: Problem, places: _ProblemPlaces) -> list[str]:
    """The nodes a problem is about, from its location: `dag D`, `dag D, task T`, `model U` or `node U` (a dbt
    node), `asset P:N` (a dataset by platform and name) or `asset URI` (an asset kept under its URI)."""
    location = problem.location
    if location.startswith("dag "):
        dag, _, task = location[4:].partition(", task ")
        return [job_id(JobKey(dag, task))] if task else [flow_id(dag)]
    kind, _, name = location.partition(" ")
    found = places.dbt.get(name) if kind in ("model", "node") else places.named.get(name) if kind == "asset" else None
    return [found] if found else []


def _counts(graph: LineageGraph, nodes: list[dict[str, Any]]) -> dict[str, int]:
    """How many of each, by singular noun (the page makes the plural)."""
    kinds: dict[str, int] = defaultdict(int)
    for node in nodes:
        kinds[node["kind"]] += 1
    return {
        "DAG": kinds["dag"],
        "task": kinds["task"],
        "dbt node": sum(kinds[k] for k in RELATION_TYPES),
        "table": kinds["table"],
        "asset": kinds["asset"],
        "run": len(graph.runs),
    }
