"""Cosmos task -> the dbt nodes it runs. Cosmos tasks are recognised by operator module, never by name.

What a task runs is what dbt would run for it: its dbt command, from the operator class
(`Dbt<Command><ExecutionMode>Operator`: `DbtRunLocalOperator`, `DbtBuildKubernetesOperator`,
`DbtTestAwsEksOperator`, ...; any execution mode, the module is not needed), and its selection, from the
template fields Cosmos serializes (`select` / `models`, `exclude`, `selector`, and the same flags in
`dbt_cmd_flags`, with `--indirect-selection`),
evaluated against the manifest with dbt's grammar (`bridge.join.selection`), filtered to the resource types
the command runs. A task with no selection field runs what Cosmos' task-id grammar names when it names a
node (the fallback for renderings that keep no selector, and for REST, which gives no selection before a run):
    <name>_run | _seed | _snapshot | _source          a node rendered alone
    <name>.run | .test | .seed | .snapshot             a node and its tests, in a task group named after it
    <name>_<resource_type>_build                       TestBehavior.BUILD
    <test name>_test                                   a test detached from its several parents
preceded by any task-group or folder-group prefixes; versioned models are named `<name>_v<version>`. Else it
runs dbt's default selection (the whole project), as dbt would, unless its source could not say whether it
has a selection (REST before a run): then it is unmatched.

With several projects loaded, the DAG's own project decides (the project most of its fqn selectors name, then
the first whose selection finds what the command runs). Commands that build nothing (run-operation, ls,
compile, docs, deps, debug, and Cosmos' own setup and teardown tasks) are matched to no node, with the reason;
so is a task whose selection selects nothing the command runs, or that the manifest cannot evaluate
(`state:modified`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from bridge.join.selection import (
    INDIRECT_MODES,
    Indirect,
    SelectionGraph,
    SelectorError,
    Spec,
    default_selector,
    parse_cli,
    parse_selector,
)
from bridge.model.airflow import AirflowDag, AirflowTask
from bridge.model.dbt import RELATION_TYPES, DbtNode, DbtProject
from bridge.model.graph import CosmosRole, MatchMethod

SELECTION_FIELDS = ("select", "models", "exclude", "selector")
# Operator class -> dbt command: `Dbt` + command + execution mode + `Operator`; longest command first.
_COMMANDS: tuple[tuple[str, CosmosRole], ...] = (
    # ExecutionMode.WATCHER: one producer runs `dbt build` for the whole selection; a consumer sensor per node
    # stands for that node's run.
    ("ProducerWatcher", "build"), ("ConsumerWatcher", "run"),
    ("RunOperation", "operation"), ("Run", "run"), ("Seed", "seed"), ("Snapshot", "snapshot"),
    ("SourceFreshness", "source"), ("Source", "source"), ("Build", "build"), ("Test", "test"), ("Clone", "run"),
    ("LS", "operation"), ("Ls", "operation"), ("Compile", "operation"), ("Docs", "operation"),
    ("Deps", "operation"), ("Debug", "operation"),
)  # fmt: skip
# What each command runs (dbt's resource types); `clone` is taken as a run of the models it clones.
_RUNS: dict[CosmosRole, frozenset[str]] = {
    "run": frozenset({"model"}),
    "seed": frozenset({"seed"}),
    "snapshot": frozenset({"snapshot"}),
    "source": frozenset({"source"}),
    "test": frozenset({"test"}),
    "build": frozenset({"model", "seed", "snapshot", "test"}),
    "operation": frozenset(),
}
_SUFFIX_ROLES: dict[str, CosmosRole] = {"run": "run", "test": "test", "seed": "seed", "snapshot": "snapshot",
                                         "source": "source"}  # fmt: skip
_BUILD = re.compile(r"^(?P<name>.+)_(?P<type>model|seed|snapshot|source)_build$")
_UNDERSCORE_ROLE = re.compile(r"^(?P<name>.+)_(?P<role>run|seed|snapshot|source)$")
_VERSIONED = re.compile(r"^(?P<name>.+)_v(?P<version>[0-9A-Za-z]+)$")


@dataclass(frozen=True, slots=True)
class TaskMatch:
    """What one Cosmos task runs.

    `runs`: the nodes dbt executes for it (models of a run task, the tests of a test task, ...); `nodes`: the
    nodes whose tables it writes (writing commands) or that its tests read (test commands), or the sources
    it checks; `node_id`: the one node the task stands for, where there is one (its model, or the model
    whose tests it runs).
    """

    dag_id: str
    task_id: str
    role: CosmosRole
    project_name: str | None
    node_id: str | None
    method: MatchMethod
    reason: str = ""
    runs: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()  # the tests among `runs`
    evaluable: bool = True  # False: dbt can select it, the manifest cannot (`state:modified`, `metric:x`)

    @property
    def matched(self) -> bool:
        return self.method != "none"


@dataclass(frozen=True, slots=True)
class ProjectIndex:
    project: DbtProject
    graph: SelectionGraph
    by_name: Mapping[str, tuple[str, ...]]
    tests_by_name: Mapping[str, str]


def index_project(project: DbtProject) -> ProjectIndex:
    by_name: dict[str, list[str]] = {}
    tests: dict[str, list[str]] = {}
    for node in project.nodes.values():
        if node.resource_type in RELATION_TYPES:  # what Cosmos names a task after
            for name in _names(node):
                by_name.setdefault(name, []).append(node.unique_id)
        elif node.resource_type == "test":  # a test detached from its parents gets a task of its own
            tests.setdefault(node.name, []).append(node.unique_id)
    return ProjectIndex(
        project, SelectionGraph(project), {k: tuple(sorted(v)) for k, v in by_name.items()},
        {k: v[0] for k, v in tests.items() if len(v) == 1},
    )  # fmt: skip


def _names(node: DbtNode) -> set[str]:
    names = {node.name, node.display_name}
    if node.source_name:  # Cosmos names a source's task `<source>_<table>`
        names.add(f"{node.source_name}_{node.name}")
    if node.version is not None:
        names |= {f"{node.name}_v{node.version}", f"{node.name}.v{node.version}"}
    return names


def match_cosmos_tasks(dags: Mapping[str, AirflowDag], projects: list[DbtProject]) -> list[TaskMatch]:
    if not any(task.is_cosmos for dag in dags.values() for task in dag.tasks.values()):
        return []  # no Cosmos task: the projects' indexes are not built
    indexes = [index_project(project) for project in projects]
    return [match for _, dag in sorted(dags.items()) for match in match_dag(dag, indexes)]


def match_dag(dag: AirflowDag, indexes: list[ProjectIndex]) -> list[TaskMatch]:
    """Matches for every Cosmos task of one DAG (plain tasks are not returned)."""
    cosmos_tasks = [task for _, task in sorted(dag.tasks.items()) if task.is_cosmos]
    ordered = _projects_for_dag(cosmos_tasks, indexes)
    return [_match_task(dag.dag_id, task, ordered) for task in cosmos_tasks]


def _projects_for_dag(tasks: Iterable[AirflowTask], indexes: list[ProjectIndex]) -> list[ProjectIndex]:
    """The projects, the one most of this DAG's fqn selectors name first."""
    votes: Counter[str] = Counter()
    for task in tasks:
        for word in _words(task.template_fields.get("select")) + _words(task.template_fields.get("models")):
            head = word.lstrip("@+0123456789")
            if head.startswith("fqn:"):
                votes[head[4:].split(".", 1)[0]] += 1
    return sorted(indexes, key=lambda ix: (-votes[ix.project.project_name], ix.project.project_name))


def task_role(task: AirflowTask) -> CosmosRole:
    """The dbt command a Cosmos operator runs, from its class name (DbtRunLocalOperator -> run); a class that
    names no dbt command (airflow_async's SetupAsyncOperator, TeardownAsyncOperator) builds nothing."""
    if not task.operator_class.startswith("Dbt"):
        return "operation"
    name = task.operator_class.removeprefix("Dbt")
    return next((role for command, role in _COMMANDS if name.startswith(command)), "operation")


def _match_task(dag_id: str, task: AirflowTask, indexes: list[ProjectIndex]) -> TaskMatch:
    role = task_role(task)
    if role == "operation":
        reason = f"{task.operator_class} runs no dbt command that builds a table"
        return TaskMatch(dag_id, task.task_id, role, None, None, "none", reason)
    given = any(task.template_fields.get(field) not in (None, "", []) for field in SELECTION_FIELDS)
    if not given:
        for index in indexes:
            by_id = _by_task_id(task.task_id, index)
            if by_id is not None:
                found_role, node_id = by_id
                runs = _task_id_runs(found_role, node_id, index)
                return _matched(dag_id, task, found_role, index, "task-id", runs, (node_id,))
    if not given and not task.template_values_known:
        reason = (
            f"its selection is unknown (the Airflow REST API gives template fields only after a run) and "
            f"task id {task.task_id!r} names no node of: {', '.join(ix.project.project_name for ix in indexes)}"
        )
        return TaskMatch(dag_id, task.task_id, role, None, None, "none", reason, evaluable=False)
    problems: list[str] = []
    for index in indexes:
        try:
            selected = index.graph.select(_spec(task, index.project))
        except SelectorError as exc:
            problems.append(f"{index.project.project_name}: {exc}")
            continue
        runs = frozenset(uid for uid in selected if index.graph.nodes[uid].resource_type in _RUNS[role])
        if runs:
            return _matched(dag_id, task, role, index, "selector", runs, selected)
    return _unmatched(dag_id, task, role, indexes, problems)


def _spec(task: AirflowTask, project: DbtProject) -> Spec:
    fields = dict(task.template_fields)
    for name, words in _cmd_flags(task.template_fields.get("dbt_cmd_flags")).items():
        # dbt adds repeated --select / --exclude up; a later --selector or --indirect-selection wins
        fields[name] = [*_words(fields.get(name)), words] if name in ("select", "models", "exclude") else words
    indirect = str(fields.get("indirect_selection") or "eager").lower()
    mode = cast(Indirect, indirect) if indirect in INDIRECT_MODES else "eager"
    selector = fields.get("selector")
    if isinstance(selector, str) and selector:
        return parse_selector(selector, project.selectors, mode)
    select = _words(fields.get("select")) + _words(fields.get("models"))
    if not select and not _words(fields.get("exclude")):
        default = default_selector(project.selectors)
        if default is not None:
            return parse_selector(default, project.selectors, mode)
    return parse_cli(select, _words(fields.get("exclude")), mode)


_FLAGS = {"--select": "select", "-s": "select", "--models": "models", "-m": "models", "--exclude": "exclude",
          "--selector": "selector", "--indirect-selection": "indirect_selection"}  # fmt: skip


def _cmd_flags(flags: Any) -> dict[str, Any]:
    """Selection flags a task passes in `dbt_cmd_flags` (`["--exclude", "tag:x"]`), after its own fields."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for word in flags if isinstance(flags, list) else ():
        text = str(word)
        if text.startswith("-"):
            name, _, inline = text.partition("=")
            current = found.setdefault(_FLAGS[name], []) if name in _FLAGS else None
            if current is not None and inline:
                current.append(inline)
        elif current is not None:
            current.append(text)
    return {key: " ".join(words) for key, words in found.items() if words}


def _words(value: Any) -> list[str]:
    """A selection field's items: a string (space-separated, as dbt splits it) or a list of them."""
    values = value if isinstance(value, list | tuple) else [value]
    return [word for item in values if isinstance(item, str) for word in item.split() if word]


def _task_id_runs(role: CosmosRole, node_id: str, index: ProjectIndex) -> frozenset[str]:
    """What a task named after a node runs: the node, or for a test task the node's tests."""
    if role != "test" or node_id.startswith("test."):
        return frozenset({node_id})
    node = index.project.nodes[node_id]
    selected = index.graph.select(parse_cli([f"fqn:{'.'.join(node.fqn)}"], None))
    return frozenset(uid for uid in selected if index.graph.nodes[uid].resource_type == "test")


def _matched(
    dag_id: str,
    task: AirflowTask,
    role: CosmosRole,
    index: ProjectIndex,
    method: MatchMethod,
    runs: frozenset[str],
    named: Iterable[str],
) -> TaskMatch:
    """`named`: the nodes the task is rendered for (its selection's own nodes, or the one its id names)."""
    nodes = index.project.nodes
    if role == "test":  # a test task reads what its tests read
        touched = {parent for uid in runs for parent in nodes[uid].depends_on if parent in nodes}
    else:
        touched = {uid for uid in runs if nodes[uid].resource_type != "test"}
    subject = {uid for uid in named if uid in touched and nodes[uid].resource_type in RELATION_TYPES}
    node_id = next(iter(subject)) if len(subject) == 1 else None
    tests = tuple(sorted(uid for uid in runs if nodes[uid].resource_type == "test"))
    return TaskMatch(
        dag_id, task.task_id, role, index.project.project_name, node_id, method, "",
        tuple(sorted(runs)), tuple(sorted(touched)), tests,
    )  # fmt: skip


def _unmatched(
    dag_id: str, task: AirflowTask, role: CosmosRole, indexes: list[ProjectIndex], problems: list[str]
) -> TaskMatch:
    loaded = ", ".join(ix.project.project_name for ix in indexes) or "none"
    fields = {f: task.template_fields[f] for f in SELECTION_FIELDS if task.template_fields.get(f) not in (None, "")}
    what = " ".join(f"{k}={v!r}" for k, v in fields.items()) or "no selection in its template fields"
    runs = "/".join(sorted(_RUNS[role]))
    if problems:
        reason = f"{what}: {'; '.join(problems)}"
    elif fields:
        reason = f"{what} selects no {runs} of {loaded}"
    else:
        reason = f"{what}, and task id {task.task_id!r} names no {runs} of {loaded}"
    return TaskMatch(dag_id, task.task_id, role, None, None, "none", reason, evaluable=not problems)


def _by_task_id(task_id: str, index: ProjectIndex) -> tuple[CosmosRole, str] | None:
    parts = task_id.split(".")
    if len(parts) >= 2 and parts[-1] in _SUFFIX_ROLES:
        node_id = _by_rendered_name(parts[-2], index)
        return (_SUFFIX_ROLES[parts[-1]], node_id) if node_id else None
    leaf = parts[-1]
    test_id = index.tests_by_name.get(leaf.removesuffix("_test")) if leaf.endswith("_test") else None
    if test_id is not None:  # a detached test task: `<test name>_test`
        return ("test", test_id)
    for pattern, role_group in ((_BUILD, None), (_UNDERSCORE_ROLE, "role")):
        found = pattern.match(leaf)
        node_id = _by_rendered_name(found.group("name"), index) if found else None
        if found and node_id:
            return (_SUFFIX_ROLES[found.group(role_group)] if role_group else "build", node_id)
    return None


def _by_rendered_name(name: str, index: ProjectIndex) -> str | None:
    """A node by the name Cosmos renders: the node name, or `<name>_v<version>` for versioned models."""
    candidates = index.by_name.get(name, ())
    if len(candidates) == 1:
        return candidates[0]
    versioned = _VERSIONED.match(name)
    if versioned:
        candidates = index.by_name.get(f"{versioned.group('name')}.v{versioned.group('version')}", ())
    return candidates[0] if len(candidates) == 1 else None
