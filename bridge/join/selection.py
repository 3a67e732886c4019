"""dbt's node selection, evaluated against a manifest: what `dbt ls --select ... --exclude ... --selector ...`
lists, without dbt.

The grammar (dbt 1.4 to 1.11):
    --select a b      a union; `a,b` inside one item is an intersection; `--exclude` is subtracted
    [@][N+]method[.arg...]:value[+N]
                      `+` parents / children (N: that many generations), `@`: children and their parents
    method            fqn (the default; a value with `/` is a path, one ending .sql/.py/.csv a file),
                      tag, path, file, package (`this`: the root project), source, exposure, resource_type,
                      config.<key>[.<key>...], test_type, test_name, version, access, group; globs as fnmatch
    --selector name   a YAML selector of the manifest (selectors.yml): union / intersection / exclude,
                      `{method, value, parents, children, ...}` or `{<method>: <value>}`, `method: selector`;
                      given, it replaces --select and --exclude, as in dbt; a `default: true` selector
                      applies when neither is given
Tests are selected indirectly, as dbt does (`eager` by default: a test any of whose parents is selected).

What a manifest cannot answer (`state:`, `result:`, `source_status:`) and what the bridge does not read
(metrics, semantic models, saved queries, unit tests) raise `SelectorError` naming the selector; the join
reports it on the task. Paths match the manifest's paths relative to the project (dbt globs the disk).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from bridge.model.dbt import DbtNode, DbtProject

Indirect = Literal["eager", "cautious", "buildable", "empty"]
INDIRECT_MODES: tuple[Indirect, ...] = ("eager", "cautious", "buildable", "empty")

_SPEC = re.compile(
    r"\A(?P<childrens_parents>@)?(?P<parents>(?P<parents_depth>\d*)\+)?"
    r"((?P<method>[\w.]+):)?(?P<value>.*?)(?P<children>\+(?P<children_depth>\d*))?\Z"
)
_KNOWN_METHODS = frozenset({"fqn", "tag", "group", "access", "source", "path", "file", "package", "config",
                            "test_name", "test_type", "resource_type", "exposure", "version"})  # fmt: skip
_NEEDS_STATE = frozenset({"state", "result", "source_status"})
_NOT_READ = frozenset({"metric", "semantic_model", "saved_query", "unit_test"})
_RESOURCE_TYPES = frozenset({"model", "analysis", "test", "snapshot", "operation", "seed", "rpc", "sql_operation",
                             "doc", "source", "macro", "exposure", "metric", "group", "saved_query",
                             "semantic_model", "unit_test", "fixture", "function"})  # fmt: skip
# dbt's default selection (it adds metrics and semantic models, which the bridge does not read).
_DEFAULT_INCLUDES = ("fqn:*", "source:*", "exposure:*")


class SelectorError(ValueError):
    """A selector this manifest cannot evaluate; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class Criterion:
    """One `[@][N+]method:value[+N]`."""

    raw: str
    method: str
    arguments: tuple[str, ...]
    value: Any
    parents: bool = False
    parents_depth: int | None = None
    children: bool = False
    children_depth: int | None = None
    childrens_parents: bool = False
    indirect: Indirect = "eager"


@dataclass(frozen=True, slots=True)
class Combined:
    """A union, intersection or difference (the first part minus the others) of selections."""

    operation: Literal["union", "intersection", "difference"]
    parts: tuple[Spec, ...]
    indirect: Indirect = "eager"


Spec = Criterion | Combined


def parse_criterion(raw: str, indirect: Indirect = "eager") -> Criterion:
    found = _SPEC.match(raw)
    if found is None:
        raise SelectorError(f"{raw!r} is not a dbt selector")
    parts = dict(found.groupdict())
    return _criterion(raw, {k: v for k, v in parts.items() if v not in (None, "") or k == "value"}, indirect)


def _criterion(raw: str, fields: Mapping[str, Any], indirect: Indirect) -> Criterion:
    value = fields["value"]
    method_text = fields.get("method")
    if method_text is None:
        text = str(value)
        method_text = "path" if "/" in text else "file" if text.lower().endswith((".sql", ".py", ".csv")) else "fqn"
    method, *arguments = str(method_text).split(".")
    if method in _NEEDS_STATE:
        raise SelectorError(f"{raw!r}: `{method}:` needs dbt's state or results of a previous run")
    if method in _NOT_READ:
        raise SelectorError(
            f"{raw!r}: `{method}:` selects dbt {method.replace('_', ' ')}s, which the bridge does not read"
        )
    if method not in _KNOWN_METHODS:
        raise SelectorError(f"{raw!r}: {method!r} is not a dbt selector method")
    if bool(fields.get("children")) and bool(fields.get("childrens_parents")):
        raise SelectorError(f"{raw!r}: the `@` prefix and the `+` suffix cannot be combined")
    mode = fields.get("indirect_selection", indirect)
    if mode not in INDIRECT_MODES:
        raise SelectorError(f"{raw!r}: indirect_selection {mode!r} is not one of {', '.join(INDIRECT_MODES)}")
    return Criterion(
        raw=raw, method=method, arguments=tuple(arguments), value=value,
        parents=bool(fields.get("parents")), parents_depth=_depth(raw, fields.get("parents_depth")),
        children=bool(fields.get("children")), children_depth=_depth(raw, fields.get("children_depth")),
        childrens_parents=bool(fields.get("childrens_parents")), indirect=mode,
    )  # fmt: skip


def _depth(raw: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SelectorError(f"{raw!r}: depth {value!r} is not a number") from None


def parse_cli(select: Sequence[str] | None, exclude: Sequence[str] | None, indirect: Indirect = "eager") -> Spec:
    """`--select` and `--exclude` as dbt reads them (no `--select`: everything)."""
    included = _union(select if select else _DEFAULT_INCLUDES, indirect)
    excluded = _union(exclude or (), indirect)
    return Combined("difference", (included, excluded))


def _union(items: Iterable[str], indirect: Indirect) -> Combined:
    specs = [word for item in items for word in item.split(" ") if word]
    parts = tuple(
        Combined("intersection", tuple(parse_criterion(p, indirect) for p in spec.split(",")), indirect)
        for spec in specs
    )
    return Combined("union", parts, indirect)


def parse_selector(name: str, selectors: Mapping[str, Any], indirect: Indirect = "eager") -> Spec:
    """A YAML selector of the manifest by name."""
    return _named(name, selectors, indirect, ())


def default_selector(selectors: Mapping[str, Any]) -> str | None:
    """The selector marked `default: true`, which dbt applies when no selection is given."""
    return next(
        (name for name, entry in selectors.items() if isinstance(entry, Mapping) and entry.get("default")), None
    )


def _named(name: str, selectors: Mapping[str, Any], indirect: Indirect, seen: tuple[str, ...]) -> Spec:
    entry = selectors.get(name)
    if not isinstance(entry, Mapping) or "definition" not in entry:
        known = ", ".join(sorted(selectors)) or "none"
        raise SelectorError(f"selector {name!r} is not defined in the manifest's selectors (defined: {known})")
    if name in seen:
        raise SelectorError(f"selector {name!r} refers to itself ({' -> '.join((*seen, name))})")
    return _definition(entry["definition"], selectors, indirect, (*seen, name))


def _definition(definition: Any, selectors: Mapping[str, Any], indirect: Indirect, seen: tuple[str, ...]) -> Spec:
    where = f"selector {seen[-1]!r}" if seen else "selector"
    if isinstance(definition, str):
        return parse_criterion(definition, indirect)
    if not isinstance(definition, Mapping):
        raise SelectorError(f"{where}: expected a string or a mapping, found {definition!r}")
    for operation in ("union", "intersection"):
        if operation in definition:
            return _set_definition(operation, definition[operation], selectors, indirect, seen)
    if definition.get("method") == "selector":
        return _named(str(definition.get("value")), selectors, indirect, seen)
    if len(definition) == 1:
        [(method, value)] = definition.items()
        return _criterion(f"{method}:{value}", {"method": method, "value": value}, indirect)
    if "method" not in definition or "value" not in definition:
        raise SelectorError(f"{where}: a criterion needs `method` and `value`, found {sorted(definition)}")
    raw = f"{definition['method']}:{definition['value']}"
    base = _criterion(raw, {k: v for k, v in definition.items() if k != "exclude"}, indirect)
    if "exclude" not in definition:
        return base
    return Combined("difference", (base, _exclusions(definition["exclude"], selectors, indirect, seen)))


def _set_definition(
    operation: Literal["union", "intersection"], items: Any, selectors: Mapping[str, Any], indirect: Indirect,
    seen: tuple[str, ...],
) -> Spec:  # fmt: skip
    if not isinstance(items, list):
        raise SelectorError(f"selector {seen[-1] if seen else ''!r}: `{operation}` must be a list")
    included: list[Spec] = []
    excluded: Spec | None = None
    for item in items:
        if isinstance(item, Mapping) and "exclude" in item:
            if excluded is not None:
                raise SelectorError(f"selector {seen[-1] if seen else ''!r}: one `exclude` per {operation}")
            excluded = _exclusions(item["exclude"], selectors, indirect, seen)
        else:
            included.append(_definition(item, selectors, indirect, seen))
    combined = Combined(operation, tuple(included))
    return combined if excluded is None else Combined("difference", (combined, excluded))


def _exclusions(items: Any, selectors: Mapping[str, Any], indirect: Indirect, seen: tuple[str, ...]) -> Spec:
    if not isinstance(items, list):
        raise SelectorError(f"selector {seen[-1] if seen else ''!r}: `exclude` must be a list")
    parts = tuple(_definition(item, selectors, indirect, seen) for item in items)
    return parts[0] if len(parts) == 1 else Combined("union", parts)


class SelectionGraph:
    """A project's nodes and their dependencies, to evaluate selections on (build once per project)."""

    def __init__(self, project: DbtProject) -> None:
        self.project = project
        self.nodes: Mapping[str, DbtNode] = project.nodes
        self.parents: dict[str, tuple[str, ...]] = {
            uid: tuple(p for p in node.depends_on if p in project.nodes) for uid, node in project.nodes.items()
        }
        self.children: dict[str, list[str]] = {uid: [] for uid in project.nodes}
        for uid, parents in self.parents.items():
            for parent in parents:
                self.children[parent].append(uid)
        self._configs: dict[str, Any] = {}
        self._disk: tuple[set[str], set[str]] | None = None
        self._fqn_index: dict[str, set[str]] | None = None

    def select(self, spec: Spec) -> frozenset[str]:
        """The unique ids dbt would select (before filtering by resource type)."""
        direct, _ = self._evaluate(spec)
        return frozenset(direct)

    def _evaluate(self, spec: Spec) -> tuple[set[str], set[str]]:
        if isinstance(spec, Criterion):
            return self._criterion(spec)
        bundles = [self._evaluate(part) for part in spec.parts]
        if not bundles:
            return set(), set()
        direct = _combine(spec.operation, [d for d, _ in bundles])
        indirect = _combine(spec.operation, [d | i for d, i in bundles])
        return self._incorporate(direct, indirect, spec.indirect), indirect

    def _criterion(self, spec: Criterion) -> tuple[set[str], set[str]]:
        found = set(self._search(spec))
        selected = set(found)
        if spec.childrens_parents:
            below = self._walk(found, self.children, None) | found
            selected |= below | self._walk(below, self.parents, None)
        if spec.parents:
            selected |= self._walk(found, self.parents, spec.parents_depth)
        if spec.children:
            selected |= self._walk(found, self.children, spec.children_depth)
        if spec.indirect == "empty":
            return selected, set()
        return self._expand(selected, spec.indirect)

    def _walk(self, start: set[str], edges: Mapping[str, Sequence[str]], depth: int | None) -> set[str]:
        reached: set[str] = set()
        layer, generation = set(start), 0
        while layer and (depth is None or generation < depth):
            layer = {n for node in layer for n in edges.get(node, ()) if n not in reached}
            reached |= layer
            generation += 1
        return reached

    def _expand(self, selected: set[str], mode: Indirect) -> tuple[set[str], set[str]]:
        """Tests whose parents are selected (dbt's indirect selection)."""
        direct, indirect = set(selected), set()
        buildable: set[str] = set()
        if mode == "buildable":
            sources = {uid for uid, node in self.nodes.items() if node.resource_type == "source"}
            buildable = selected | self._walk(selected, self.parents, None) | sources
        for uid in {child for node in selected for child in self.children.get(node, ())}:
            if self.nodes[uid].resource_type != "test":
                continue
            parents = set(self.parents[uid])
            if mode == "eager" or parents <= selected or (mode == "buildable" and parents <= buildable):
                direct.add(uid)
            else:
                indirect.add(uid)
        return direct, indirect

    def _incorporate(self, direct: set[str], indirect: set[str], mode: Indirect) -> set[str]:
        if mode not in ("cautious", "buildable") or direct == indirect:
            return direct
        selected = set(direct)
        allowed = selected | self._walk(selected, self.parents, None) if mode == "buildable" else selected
        selected |= {uid for uid in indirect if set(self.parents.get(uid, ())) <= allowed}
        return selected

    def _search(self, spec: Criterion) -> Iterable[str]:
        if spec.value in (None, ""):
            return ()  # `tag:` or an empty part of `a,`: dbt finds nothing
        if spec.method == "config":
            return self._by_config(spec)
        text = str(spec.value)
        if spec.method == "resource_type" and text not in _RESOURCE_TYPES:
            raise SelectorError(f"{spec.raw!r}: {text!r} is not a dbt resource type")
        by_node = _NODE_TESTS.get(spec.method)
        if by_node is not None:
            return (uid for uid, node in self.nodes.items() if by_node(node, text))
        if spec.method == "package":
            package = self.project.project_name if text == "this" else text
            return (uid for uid, node in self.nodes.items() if fnmatchcase(node.package_name, package))
        searches = {"source": self._by_source, "exposure": self._by_exposure, "test_type": self._by_test_type,
                    "version": self._by_version, "path": self._by_path, "fqn": self._by_fqn}  # fmt: skip
        return searches[spec.method](spec, text)

    def _by_path(self, spec: Criterion, text: str) -> Iterable[str]:
        """What dbt's `path:` selects: the root project's files and folders the glob matches (folders only
        with a trailing `/`), then every node whose file, a folder above it, or its yml is one of them."""
        if self._disk is None:
            self._disk = _on_disk(self.project)
        files, folders = self._disk
        folders_only = text.rstrip().endswith("/")
        pattern = posixpath.normpath(text.strip().removeprefix("./") or ".").split("/")
        found = {f for f in folders if _glob(f.split("/"), pattern)}
        found |= set() if folders_only else {f for f in files if _glob(f.split("/"), pattern)}
        for uid, node in self.nodes.items():
            path = node.original_file_path.replace("\\", "/")
            if path in found or _yml_path(node) in found or any(p in found for p in _parents(path)):
                yield uid

    def _by_fqn(self, spec: Criterion, text: str) -> Iterable[str]:
        """Nodes by qualified name: looked up by leaf and fqn prefix, scanned only for a glob."""
        if any(c in text for c in "*?[]"):
            return (u for u, n in self.nodes.items() if n.resource_type != "source" and n.fqn and _fqn_matches(n, text))
        if self._fqn_index is None:
            self._fqn_index = _fqn_index(self.nodes)
        wanted = text.split(".")
        keys = (text, "_".join(wanted[-2:]))
        candidates = {uid for key in keys for uid in self._fqn_index.get(key, ())}
        return (uid for uid in candidates if _fqn_matches(self.nodes[uid], text))

    def _by_source(self, spec: Criterion, text: str) -> Iterable[str]:
        parts = text.split(".")
        if not 1 <= len(parts) <= 3:
            raise SelectorError(f"{spec.raw!r}: a source is `source`, `source.table` or `package.source.table`")
        package, source, table = parts if len(parts) == 3 else ("*", parts[0], parts[1] if len(parts) == 2 else "*")
        return (
            u for u, n in self.nodes.items()
            if n.resource_type == "source" and fnmatchcase(n.package_name, package)
            and fnmatchcase(n.source_name or "", source) and fnmatchcase(n.name, table)
        )  # fmt: skip

    def _by_exposure(self, spec: Criterion, text: str) -> Iterable[str]:
        parts = text.split(".")
        if len(parts) > 2:
            raise SelectorError(f"{spec.raw!r}: an exposure is `name` or `package.name`")
        package, name = parts if len(parts) == 2 else ("*", parts[0])
        return (
            u for u, n in self.nodes.items()
            if n.resource_type == "exposure" and fnmatchcase(n.package_name, package) and fnmatchcase(n.name, name)
        )  # fmt: skip

    def _by_test_type(self, spec: Criterion, text: str) -> Iterable[str]:
        kinds = {"generic": {True}, "schema": {True}, "singular": {False}, "data": {True, False}, "unit": set()}
        if text not in kinds:
            raise SelectorError(f"{spec.raw!r}: a test type is generic, singular, unit or data")
        wanted = kinds[text]
        return (u for u, n in self.nodes.items() if n.resource_type == "test" and _is_generic(n) in wanted)

    def _by_version(self, spec: Criterion, text: str) -> Iterable[str]:
        if text not in ("latest", "prerelease", "old", "none"):
            raise SelectorError(f"{spec.raw!r}: a version selector is latest, prerelease, old or none")
        models = [(u, n) for u, n in self.nodes.items() if n.resource_type == "model"]
        if text == "none":
            return (u for u, n in models if n.version is None)
        if text == "latest":
            return (u for u, n in models if n.version is not None and n.version == n.latest_version)
        sign = 1 if text == "prerelease" else -1
        return (
            u for u, n in models
            if n.version and n.latest_version and _compare_versions(n.version, n.latest_version) == sign
        )  # fmt: skip

    def _by_config(self, spec: Criterion) -> Iterable[str]:
        wanted = spec.value
        for uid, node in self.nodes.items():
            if node.resource_type == "exposure":
                continue
            found, value = _descend(self._config(uid, node), spec.arguments)
            if found and _config_equals(value, wanted, spec.arguments == ("severity",)):
                yield uid

    def _config(self, uid: str, node: DbtNode) -> Any:
        if uid not in self._configs:
            self._configs[uid] = json.loads(node.config_json) if node.config_json else {}
        return self._configs[uid]


def _test_name_matches(node: DbtNode, text: str) -> bool:
    return node.test is not None and node.test.test_name is not None and fnmatchcase(node.test.test_name, text)


# The methods that look at one node at a time: node, selector value -> selected.
_NODE_TESTS: dict[str, Callable[[DbtNode, str], bool]] = {
    "tag": lambda node, text: any(fnmatchcase(tag, text) for tag in node.tags),
    "group": lambda node, text: (
        node.resource_type not in ("source", "exposure") and node.group is not None and fnmatchcase(node.group, text)
    ),
    "access": lambda node, text: node.resource_type == "model" and node.access == text,
    "resource_type": lambda node, text: node.resource_type == text,
    "file": lambda node, text: _file_matches(node.original_file_path, text),
    "test_name": _test_name_matches,
}


def _combine(operation: str, sets: list[set[str]]) -> set[str]:
    if operation == "union":
        return set().union(*sets)
    if operation == "intersection":
        return set.intersection(*sets)
    return sets[0].difference(*sets[1:])


def _fqn_index(nodes: Mapping[str, DbtNode]) -> dict[str, set[str]]:
    """Qualified-name keys -> nodes: each leaf (a versioned model's name and `name_v2`) and each dotted prefix
    of the fqn, with and without its package; every candidate is still checked against dbt's rule."""
    index: dict[str, set[str]] = {}
    for uid, node in nodes.items():
        if node.resource_type == "source" or not node.fqn:
            continue
        keys = {node.fqn[-1]}
        if node.resource_type == "model" and node.version is not None and len(node.fqn) >= 2:
            keys |= {node.fqn[-2], "_".join(node.fqn[-2:])}
        for fqn in (node.fqn, node.fqn[1:]):
            flat = [piece for segment in fqn for piece in segment.split(".")]
            keys |= {".".join(flat[:i]) for i in range(1, len(flat) + 1)}
        for key in keys:
            index.setdefault(key, set()).add(uid)
    return index


def _fqn_matches(node: DbtNode, selector: str) -> bool:
    versioned = node.resource_type == "model" and node.version is not None
    return _fqn_selects(list(node.fqn), selector, versioned) or _fqn_selects(list(node.fqn[1:]), selector, versioned)


def _fqn_selects(fqn: list[str], selector: str, versioned: bool) -> bool:
    """dbt's qualified-name match: the leaf (for versioned models `name` or `name_v2` / `name.v2`), a prefix
    of the dotted fqn, or a glob from the first wildcard part on."""
    if not fqn:
        return False
    wanted = selector.split(".")
    if versioned and len(fqn) >= 2:
        if fqn[-2] == selector or "_".join(fqn[-2:]) == "_".join(wanted[-2:]):
            return True
    elif fqn[-1] == selector:
        return True
    flat = [piece for segment in fqn for piece in segment.split(".")]
    if len(flat) < len(wanted):
        return False
    wild = next((i for i, part in enumerate(wanted) if any(c in part for c in "*?[]")), None)
    if flat[: wild if wild is not None else len(wanted)] != wanted[: wild if wild is not None else len(wanted)]:
        return False
    if wild is None:
        return True
    if fnmatchcase(".".join(flat[wild:]), ".".join(wanted[wild:])):
        return True
    leaf = fqn[-2] if versioned and len(fqn) >= 2 else fqn[-1]
    return "." not in selector and fnmatchcase(leaf, selector)


def _yml_path(node: DbtNode) -> str | None:
    """The yml that documents a node, relative to its package (`finance://models/x.yml` -> `models/x.yml`)."""
    return node.patch_path.split("://", 1)[1] if node.patch_path and "://" in node.patch_path else None


def _on_disk(project: DbtProject) -> tuple[set[str], set[str]]:
    """The root project's files and folders as its manifest knows them (dbt globs the root project's disk)."""
    files: set[str] = set()
    for node in project.nodes.values():
        if node.package_name == project.project_name:
            files |= {p for p in (node.original_file_path.replace("\\", "/"), _yml_path(node)) if p}
    folders = {"/".join(parts[:i]) for parts in (f.split("/") for f in files) for i in range(1, len(parts))}
    return files, folders


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _glob(parts: list[str], pattern: list[str]) -> bool:
    """Path-part glob as pathlib's: `*` stays within a part, `**` spans any number of parts."""
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_glob(parts[i:], rest) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], head) and _glob(parts[1:], rest)


def _file_matches(path: str, selector: str) -> bool:
    name = posixpath.basename(path.replace("\\", "/"))
    return fnmatchcase(name, selector) or fnmatchcase(posixpath.splitext(name)[0], selector)


def _is_generic(node: DbtNode) -> bool:
    return node.test is not None and node.test.test_name is not None


def _compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1, numerically where both versions are numbers (as dbt compares them), else as text."""
    try:
        left, right = float(a), float(b)
    except ValueError:
        left, right = a, b  # type: ignore[assignment]
    return (left > right) - (left < right)


def _descend(value: Any, keys: Sequence[str]) -> tuple[bool, Any]:
    for key in keys:
        if isinstance(value, Mapping) and key in value:
            value = value[key]
        else:  # dbt walks attributes and keys, not list positions
            return False, None
    return True, value


def _config_equals(value: Any, wanted: Any, case_insensitive: bool) -> bool:
    """dbt's comparison: equal, a member of a list, `true`/`false` against booleans; severity ignores case."""
    values = value if isinstance(value, list) else [value]
    text = str(wanted).lower() if isinstance(wanted, str) else None
    for item in values:
        if item == wanted or (case_insensitive and isinstance(item, str) and text == item.lower()):
            return True
        if (text == "true" and item is True) or (text == "false" and item is False):
            return True
    return False
