"""Cosmos task -> dbt node. Cosmos tasks are recognised by operator module, never by name.

Match order: the node selector Cosmos keeps in the task's template fields (`select`/`models`, as a bare name,
`fqn:project.path.name`, `path:...`, with graph operators), then Cosmos' task-id grammar:
    <name>_run | _seed | _snapshot | _source          a node rendered alone
    <name>.run | .test | .seed | .snapshot             a node and its tests, in a task group named after it
    <name>_<resource_type>_build                       TestBehavior.BUILD
    <folder>_test                                      TestBehavior.AFTER_ALL: the project's tests (named after
                                                       the project's folder; with a selector, it tests those)
preceded by any task-group or folder-group prefixes (`transform.`, `marts.core.`); versioned models are
named `<name>_v<version>`. With several projects loaded, the DAG's own project decides (the project most of
its fqn selectors name). A task that matches nothing is returned with the reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bridge.model.airflow import AirflowDag, AirflowTask
from bridge.model.dbt import RELATION_TYPES, DbtNode, DbtProject
from bridge.model.graph import CosmosRole, MatchMethod

SELECTOR_FIELDS = ("select", "models")
_GRAPH_OPERATORS = re.compile(r"^(@|\d*\+)|(\+\d*)$")
_SUFFIX_ROLES: dict[str, CosmosRole] = {"run": "run", "test": "test", "seed": "seed", "snapshot": "snapshot",
                                         "source": "source"}  # fmt: skip
_BUILD = re.compile(r"^(?P<name>.+)_(?P<type>model|seed|snapshot|source)_build$")
_UNDERSCORE_ROLE = re.compile(r"^(?P<name>.+)_(?P<role>run|seed|snapshot|source)$")
_VERSIONED = re.compile(r"^(?P<name>.+)_v(?P<version>[0-9A-Za-z]+)$")


@dataclass(frozen=True, slots=True)
class TaskMatch:
    dag_id: str
    task_id: str
    role: CosmosRole
    project_name: str | None
    node_id: str | None
    method: MatchMethod
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _ProjectIndex:
    project: DbtProject
    by_fqn: Mapping[str, str]
    by_name: Mapping[str, tuple[str, ...]]
    by_path: Mapping[str, str]


def index_project(project: DbtProject) -> _ProjectIndex:
    by_fqn: dict[str, str] = {}
    by_name: dict[str, list[str]] = {}
    by_path: dict[str, str] = {}
    for node in project.nodes.values():
        if node.resource_type not in RELATION_TYPES:  # what a Cosmos task can run
            continue
        by_fqn[".".join(node.fqn)] = node.unique_id
        by_path.setdefault(node.original_file_path, node.unique_id)
        for name in _names(node):
            by_name.setdefault(name, []).append(node.unique_id)
    return _ProjectIndex(project, by_fqn, {k: tuple(sorted(v)) for k, v in by_name.items()}, by_path)


def _names(node: DbtNode) -> set[str]:
    names = {node.name, node.display_name}
    if node.version is not None:
        names |= {f"{node.name}_v{node.version}", f"{node.name}.v{node.version}"}
    return names


def match_dag(dag: AirflowDag, indexes: list[_ProjectIndex]) -> list[TaskMatch]:
    """Matches for every Cosmos task of one DAG (plain tasks are not returned)."""
    cosmos_tasks = [task for _, task in sorted(dag.tasks.items()) if task.is_cosmos]
    ordered = _projects_for_dag(cosmos_tasks, indexes)
    return [_match_task(dag.dag_id, task, ordered) for task in cosmos_tasks]


def _projects_for_dag(tasks: Iterable[AirflowTask], indexes: list[_ProjectIndex]) -> list[_ProjectIndex]:
    """The projects, the one most of this DAG's fqn selectors name first."""
    votes: Counter[str] = Counter()
    for task in tasks:
        for token in selector_tokens(task):
            if token.startswith("fqn:"):
                votes[token[4:].split(".", 1)[0]] += 1
    return sorted(indexes, key=lambda ix: (-votes[ix.project.project_name], ix.project.project_name))


def selector_tokens(task: AirflowTask) -> list[str]:
    """Selector tokens from the template fields: strings or lists, graph operators stripped."""
    tokens: list[str] = []
    for field in SELECTOR_FIELDS:
        value = task.template_fields.get(field)
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, str):
                tokens.extend(_GRAPH_OPERATORS.sub("", t) for t in item.replace(",", " ").split())
    return [t for t in tokens if t]


def _match_task(dag_id: str, task: AirflowTask, indexes: list[_ProjectIndex]) -> TaskMatch:
    role = task_role(task)
    tokens = selector_tokens(task)
    for index in indexes:
        node_id = _by_selector(tokens, index)
        if node_id:
            return TaskMatch(dag_id, task.task_id, role, index.project.project_name, node_id, "selector")
    for index in indexes:
        found = _by_task_id(task.task_id, index)
        if found:
            found_role, node_id = found
            return TaskMatch(dag_id, task.task_id, found_role, index.project.project_name, node_id, "task-id")
    return _unmatched(dag_id, task, role, tokens, indexes)


def _unmatched(
    dag_id: str, task: AirflowTask, role: CosmosRole, tokens: list[str], indexes: list[_ProjectIndex]
) -> TaskMatch:
    leaf = task.task_id.rsplit(".", 1)[-1]
    if role == "test" and leaf.endswith("_test") and not tokens and indexes:
        # TestBehavior.AFTER_ALL: one task testing the whole project, named after the project's folder.
        return TaskMatch(dag_id, task.task_id, "project-test", indexes[0].project.project_name, None, "task-id")
    loaded = ", ".join(ix.project.project_name for ix in indexes) or "none"
    what = f"selector {' '.join(tokens)!r}" if tokens else "no selector in its template fields"
    reason = f"{what}; task id {task.task_id!r} names no model, seed, snapshot or source of: {loaded}"
    return TaskMatch(dag_id, task.task_id, role, None, None, "none", reason)


_OPERATOR_ROLES: tuple[CosmosRole, ...] = ("build", "run", "test", "seed", "snapshot", "source")


def task_role(task: AirflowTask) -> CosmosRole:
    """What a Cosmos task does, from its operator class (DbtRunLocalOperator -> run)."""
    name = task.operator_class.lower()
    return next((role for role in _OPERATOR_ROLES if name.startswith(f"dbt{role}")), "run")


def _by_selector(tokens: list[str], index: _ProjectIndex) -> str | None:
    for token in tokens:
        method, _, value = token.rpartition(":")
        node_id = _select_one(method, value, index)
        if node_id:
            return node_id
    return None


def _select_one(method: str, value: str, index: _ProjectIndex) -> str | None:
    if method == "fqn":
        return index.by_fqn.get(value)
    if method == "path":
        return index.by_path.get(value)
    if method == "source":
        candidates = index.by_name.get(value, ())
        return candidates[0] if len(candidates) == 1 else None
    if method:
        return None  # tag:, resource_type:, config: ... select many nodes, not one
    candidates = index.by_name.get(value, ())
    if len(candidates) == 1:
        return candidates[0]
    return index.by_fqn.get(value)


def _by_task_id(task_id: str, index: _ProjectIndex) -> tuple[CosmosRole, str] | None:
    parts = task_id.split(".")
    if len(parts) >= 2 and parts[-1] in _SUFFIX_ROLES:
        node_id = _by_rendered_name(parts[-2], index)
        return (_SUFFIX_ROLES[parts[-1]], node_id) if node_id else None
    leaf = parts[-1]
    for pattern, role_group in ((_BUILD, None), (_UNDERSCORE_ROLE, "role")):
        found = pattern.match(leaf)
        node_id = _by_rendered_name(found.group("name"), index) if found else None
        if found and node_id:
            return (_SUFFIX_ROLES[found.group(role_group)] if role_group else "build", node_id)
    return None


def _by_rendered_name(name: str, index: _ProjectIndex) -> str | None:
    """A node by the name Cosmos renders: the node name, or `<name>_v<version>` for versioned models."""
    candidates = index.by_name.get(name, ())
    if len(candidates) == 1:
        return candidates[0]
    versioned = _VERSIONED.match(name)
    if versioned:
        candidates = index.by_name.get(f"{versioned.group('name')}.v{versioned.group('version')}", ())
    return candidates[0] if len(candidates) == 1 else None


def match_cosmos_tasks(dags: Mapping[str, AirflowDag], projects: list[DbtProject]) -> list[TaskMatch]:
    indexes = [index_project(project) for project in projects]
    return [match for _, dag in sorted(dags.items()) for match in match_dag(dag, indexes)]
