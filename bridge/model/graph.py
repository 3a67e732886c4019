"""The joined lineage graph: plain, frozen, serialisable data between `join` and `emit`.

The graph names entities by keys (platform + name, dag_id + task_id), not by DataHub URNs: turning keys into
URNs is the emitter's job (`bridge.emit.urns`). `graph_to_json` / `graph_from_json` round-trip it exactly, so
"what would be emitted" can be written down, reviewed and emitted later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast, get_args

import msgspec

from bridge.model.report import Problem

# The resource types whose run results are executions of a node with a dataset (tests are assertions).
EXECUTED_TYPES = frozenset({"model", "seed", "snapshot"})


@dataclass(frozen=True, slots=True, order=True)
class DatasetKey:
    """A dataset as DataHub names it: platform, dotted name (already normalised), instance, env."""

    platform: str
    name: str
    platform_instance: str | None = None
    env: str = "PROD"

    @property
    def short_name(self) -> str:
        """The last part of its name: a file's (`index_prices.csv` of `bucket/markets/index_prices.csv`, also
        in a URI kept as it is), else a table's (`orders` of `analytics.marts.orders`)."""
        return self.name.rsplit("/", 1)[-1] if "/" in self.name else self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True, order=True)
class JobKey:
    """An Airflow task: DataHub's `urn:li:dataJob:(urn:li:dataFlow:(airflow,dag_id,cluster),task_id)`."""

    dag_id: str
    task_id: str
    cluster: str = "prod"


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a dbt dataset: name and type as the catalog found them, description and tags as the
    project documents them (DataHub's dbt source combines the two the same way)."""

    name: str
    native_type: str
    description: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dbt node (platform `dbt`), a warehouse table, or an asset of another platform."""

    key: DatasetKey
    display_name: str
    subtype: str  # Model, Seed, Snapshot, Source, Table, View, Asset
    description: str = ""
    dbt_unique_id: str | None = None
    upstreams: tuple[DatasetKey, ...] = ()
    sibling: DatasetKey | None = None
    is_primary_sibling: bool = False
    domain: str | None = None  # domain id: `fred` for urn:li:domain:fred
    owners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    external_url: str | None = None
    columns: tuple[Column, ...] = ()  # from a catalog, on dbt entities only


@dataclass(frozen=True, slots=True)
class Flow:
    """An Airflow DAG (DataHub DataFlow)."""

    dag_id: str
    cluster: str = "prod"
    description: str = ""
    owners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    domain: str | None = None
    external_url: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)


# The dbt command a Cosmos task runs, from its operator class (`operation`: a command that builds no table:
# run-operation, ls, compile, docs, deps, debug), and how the join found what it runs (`none`: it found nothing).
CosmosRole = Literal["run", "test", "seed", "snapshot", "source", "build", "operation"]
MatchMethod = Literal["selector", "task-id", "none"]
# The roles whose task builds its node (writes its relation); tests are run by `test` and `build` tasks.
WRITING_ROLES: frozenset[CosmosRole] = frozenset({"run", "seed", "snapshot", "build"})
TESTING_ROLES: frozenset[CosmosRole] = frozenset({"test", "build"})


@dataclass(frozen=True, slots=True)
class CosmosTask:
    """A task Cosmos rendered from dbt: its command and how it was matched (`Job.dbt_nodes` are what it runs)."""

    role: CosmosRole
    matched_by: MatchMethod

    @property
    def matched(self) -> bool:
        """Whether the join found the nodes it runs."""
        return self.matched_by != "none"


@dataclass(frozen=True, slots=True)
class Job:
    """An Airflow task (DataHub DataJob), with the datasets it reads and writes and the tasks before it;
    `cosmos` when Cosmos rendered it from a dbt node."""

    key: JobKey
    operator: str
    description: str = ""
    inputs: tuple[DatasetKey, ...] = ()
    outputs: tuple[DatasetKey, ...] = ()
    upstream_jobs: tuple[JobKey, ...] = ()
    dbt_unique_id: str | None = None  # the one dbt node it stands for, where there is one
    # A Cosmos task's dbt nodes: those whose tables it writes, that its tests read, or the sources it checks.
    dbt_nodes: tuple[str, ...] = ()
    dbt_tests: tuple[str, ...] = ()  # the dbt tests a Cosmos test or build task runs (their assertions)
    domain: str | None = None
    owners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    external_url: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    cosmos: CosmosTask | None = None


@dataclass(frozen=True, slots=True)
class Domain:
    domain_id: str
    name: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class RunKey:
    """Which run: a DAG run (`task_id` None) or one task instance of it (`map_index` >= 0 when mapped)."""

    dag_id: str
    run_id: str
    task_id: str | None = None
    map_index: int = -1
    cluster: str = "prod"

    @property
    def dag_run(self) -> RunKey:
        """The DAG run this task run belongs to (itself for a DAG run)."""
        return RunKey(self.dag_id, self.run_id, None, -1, self.cluster)


# Airflow's run types (DagRunType, 2.x and 3.x). A type not among them is kept as the run's `run_type` property
# only; without a type, the run's kind is guessed from its run id, as DataHub's Airflow plugin does.
RunType = Literal["scheduled", "manual", "backfill", "asset_triggered", "dataset_triggered", "asset_materialization"]
RUN_TYPES: frozenset[str] = frozenset(get_args(RunType))


def known_run_type(value: str | None) -> RunType | None:
    return cast(RunType, value) if value in RUN_TYPES else None


@dataclass(frozen=True, slots=True)
class Run:
    """One DAG run or task run (DataHub DataProcessInstance). Times are epoch milliseconds."""

    run_id: str
    dag_id: str
    task_id: str | None  # None for the DAG run itself
    cluster: str
    status: str  # STARTED or COMPLETE
    result: str | None  # SUCCESS, FAILURE, SKIPPED, UP_FOR_RETRY, or None while running
    start_ms: int | None
    end_ms: int | None  # when it ended; for a finished run whose times are unknown, when it was seen finished
    attempt: int = 1
    external_url: str | None = None
    duration_ms: int | None = None
    inputs: tuple[DatasetKey, ...] = ()
    outputs: tuple[DatasetKey, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    map_index: int = -1  # a mapped task's instance: 0, 1, ...; -1 when the task is not mapped
    run_type: RunType | None = None

    @property
    def key(self) -> RunKey:
        return RunKey(self.dag_id, self.run_id, self.task_id, self.map_index, self.cluster)


@dataclass(frozen=True, slots=True)
class DbtResult:
    """One node's outcome in one dbt invocation (run_results.json, or the on-run-end recipe's export).

    `dataset` is the node's dbt entity where it has one (models, seeds, snapshots, sources); tests and
    operations have none. Times are epoch milliseconds.
    """

    invocation_id: str | None
    command: str | None
    unique_id: str
    dataset: DatasetKey | None
    status: str
    start_ms: int | None
    end_ms: int | None
    execution_time: float
    failures: int | None = None
    message: str | None = None
    read_from: str = ""
    parent_run: RunKey | None = None  # the Cosmos task run that executed it (join/dbt_runs.py), if found

    @property
    def is_execution(self) -> bool:
        """A result of a node dbt built (model, seed, snapshot), not of a test or an operation."""
        return self.unique_id.split(".", 1)[0] in EXECUTED_TYPES


# DataHub's terms for a check (its AssertionStd* enums; `UNIQUE_PROPOTION` is DataHub's spelling).
AssertionScope = Literal["DATASET_COLUMN", "DATASET_ROWS"]
AssertionOperator = Literal["NOT_NULL", "EQUAL_TO", "IN", "BETWEEN", "_NATIVE_"]
AssertionAggregation = Literal["IDENTITY", "UNIQUE_PROPOTION", "_NATIVE_"]
AssertionResultType = Literal["SUCCESS", "FAILURE", "ERROR"]


@dataclass(frozen=True, slots=True)
class AssertionParameter:
    value: str
    type: Literal["NUMBER", "SET"]


@dataclass(frozen=True, slots=True)
class AssertionCheck:
    """What a dbt test checks, in DataHub's standard terms where it has them (`_NATIVE_` where not)."""

    scope: AssertionScope
    operator: AssertionOperator
    aggregation: AssertionAggregation
    native_type: str  # the test's name
    column: str | None = None
    value: AssertionParameter | None = None
    min_value: AssertionParameter | None = None
    max_value: AssertionParameter | None = None
    logic: str | None = None
    native_parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AssertionRun:
    """One evaluation: a test's result in one dbt invocation, or one `dbt source freshness` check."""

    run_id: str  # the dbt invocation
    timestamp_ms: int
    status: str  # dbt's: pass, fail, warn, error, ...
    result: AssertionResultType
    severity: Literal["HIGH", "LOW"] | None = None
    native_results: Mapping[str, str] = field(default_factory=dict)
    task_run: RunKey | None = None  # the Cosmos task run that ran the test (join/dbt_runs.py), if found


@dataclass(frozen=True, slots=True)
class Assertion:
    """A dbt test about one node it reads (a test reading several nodes is one assertion per node), or a
    source's freshness criteria, with its evaluations. `assertee` is a test's node's dbt entity, a
    source's warehouse table for freshness."""

    dbt_unique_id: str
    kind: Literal["test", "freshness"]
    assertee: DatasetKey
    dbt_platform_instance: str | None = None
    upstream_unique_id: str | None = None  # the node a test is about
    names_upstream: bool = False  # the test reads several nodes: its id names which one
    check: AssertionCheck | None = None  # a test's
    description: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    owners: tuple[str, ...] = ()
    runs: tuple[AssertionRun, ...] = ()


@dataclass(frozen=True, slots=True)
class LineageGraph:
    """Everything a sync emits, sorted so the same inputs always give the same graph."""

    datasets: tuple[Dataset, ...] = ()
    flows: tuple[Flow, ...] = ()
    jobs: tuple[Job, ...] = ()
    domains: tuple[Domain, ...] = ()
    runs: tuple[Run, ...] = ()
    dbt_results: tuple[DbtResult, ...] = ()
    problems: tuple[Problem, ...] = ()
    assertions: tuple[Assertion, ...] = ()


def graph_to_json(graph: LineageGraph) -> bytes:
    return msgspec.json.format(msgspec.json.encode(graph), indent=1)


def graph_from_json(data: bytes) -> LineageGraph:
    return msgspec.json.decode(data, type=LineageGraph)
