"""One sync, in order: read dbt artifacts and Airflow, join them, emit the graph, report.

This is the only place that knows every edge; each step is a call into read/, join/ or emit/.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.config import BridgeConfig
from bridge.errors import BridgeError
from bridge.join.pipeline import join_lineage
from bridge.model.airflow import AirflowSnapshot
from bridge.model.dbt import DbtInputs
from bridge.model.graph import LineageGraph
from bridge.model.report import RunReport
from bridge.outputs import LockFile, write_output
from bridge.progress import Progress
from bridge.read.dbt.inputs import read_dbt
from bridge.run_report import build_report, plural

if TYPE_CHECKING:
    from datahub.emitter.mcp import MetadataChangeProposalWrapper

    from bridge.emit.airflow_urls import AirflowUrls
    from bridge.emit.aspects import EmitOptions
    from bridge.emit.mcps import Entity
    from bridge.emit.state import Incremental, Removals, SyncState

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class SyncResult:
    """The joined graph (None when the sync stopped before the join), the run report, and the error that
    stopped the sync, if one did (the report then says how far it got)."""

    graph: LineageGraph | None
    report: RunReport
    failure: BridgeError | None = None
    airflow_version: str | None = None  # of the Airflow that was read, when one was


def read_airflow(config: BridgeConfig, clock: Clock) -> AirflowSnapshot | None:
    """Airflow from its metadata DB, its REST API, or both combined (the DB first); None when neither is
    configured. `airflow_api.read` unset means: read the API only when there is no DB."""
    since = (clock() - timedelta(days=config.run_history.days)).isoformat() if config.run_history.enabled else None
    has_db = config.airflow_db.target() is not None
    read_api = config.airflow_api.url is not None and (
        config.airflow_api.read or (config.airflow_api.read is None and not has_db)
    )
    from_db = from_api = None
    if has_db:
        from bridge.read.airflow_db.reader import read_airflow_db

        from_db = read_airflow_db(
            config.airflow_db, since=since, runs=config.run_history.enabled, dags=config.dag_pattern.pattern()
        )
    if read_api:
        from bridge.read.airflow_api.reader import read_airflow_api

        from_api = read_airflow_api(config.airflow_api, since=since, dags_read=config.dag_pattern.pattern())
    if from_db is not None and from_api is not None:
        from bridge.read.combine import combine_snapshots

        return combine_snapshots(from_db, from_api)
    return from_db or from_api


def read_and_join(
    config: BridgeConfig, clock: Clock, airflow: AirflowSnapshot | None = None, progress: Progress | None = None
) -> tuple[LineageGraph, AirflowSnapshot | None]:
    """The joined graph of everything the configuration names, and the Airflow snapshot it was joined with.
    `airflow`: a snapshot already taken (the operator's, from inside a running DAG) instead of reading one."""
    dbt, snapshot = read_inputs(config, clock, airflow, progress)
    return join_inputs(dbt, snapshot, config, progress), snapshot


def read_inputs(
    config: BridgeConfig, clock: Clock, airflow: AirflowSnapshot | None = None, progress: Progress | None = None
) -> tuple[DbtInputs, AirflowSnapshot | None]:
    """What dbt and Airflow say (`airflow`: as for `read_and_join`)."""
    progress = progress or Progress.off()
    with progress.step("reading dbt") as done:
        dbt = read_dbt(config.dbt)
        results = f", {plural(len(dbt.run_results), 'results file')}" if dbt.run_results else ""
        nodes = sum(len(project.nodes) for project in dbt.projects)
        done.say(f"{plural(nodes, 'manifest node')} in {plural(len(dbt.projects), 'project')}{results}")
    if airflow is not None or (config.airflow_db.target() is None and config.airflow_api.url is None):
        return dbt, airflow
    with progress.step("reading Airflow") as done:
        snapshot = read_airflow(config, clock)
        done.say(_snapshot_text(snapshot))
    return dbt, snapshot


def join_inputs(
    dbt: DbtInputs, snapshot: AirflowSnapshot | None, config: BridgeConfig, progress: Progress | None = None
) -> LineageGraph:
    with (progress or Progress.off()).step("joining") as done:
        graph = join_lineage(list(dbt.projects), snapshot, config.join_settings(), dbt.run_results, dbt.catalog)
        done.say(f"{len(graph.datasets):,} datasets, {len(graph.flows):,} DAGs, {len(graph.jobs):,} tasks, "
                 f"{len(graph.runs):,} runs, {len(graph.problems):,} problems")  # fmt: skip
    return graph


def _snapshot_text(snapshot: AirflowSnapshot | None) -> str:
    if snapshot is None:
        return "no Airflow source configured"
    tasks = sum(len(dag.tasks) for dag in snapshot.dags.values())
    version = f"Airflow {snapshot.airflow_version} " if snapshot.airflow_version else ""
    return (f"{version}{snapshot.source}: {len(snapshot.dags):,} DAGs, {tasks:,} tasks, "
            f"{len(snapshot.dag_runs):,} DAG runs, {len(snapshot.task_instances):,} task runs")  # fmt: skip


def emit_options(config: BridgeConfig, snapshot: AirflowSnapshot | None) -> EmitOptions:
    """How records are shaped besides the graph: links into the Airflow UI of the version that was read."""
    from bridge.emit.aspects import EmitOptions

    urls = airflow_urls(config, snapshot.airflow_version if snapshot else None)
    return EmitOptions(urls=urls, lowercase_columns=config.lowercase_columns)


def airflow_urls(config: BridgeConfig, airflow_version: str | None) -> AirflowUrls:
    """Links into the UI of the Airflow that was read (its major version decides their form)."""
    from bridge.emit.airflow_urls import AirflowUrls

    return AirflowUrls(config.airflow_api.url, int(airflow_version.split(".")[0]) if airflow_version else None)


def emit_graph(
    graph: LineageGraph,
    config: BridgeConfig,
    snapshot: AirflowSnapshot | None,
    delivered: Counter[str],
    progress: Progress | None = None,
) -> None:
    """Send the graph to the configured sink: everything, or with a state file only what changed since the
    last sync and the removal of what is gone (`bridge.emit.state`). `delivered` receives the MCP counts by
    aspect that the sink wrote or had acknowledged, also when it fails part way."""
    from bridge.emit.mcps import entity_mcps, graph_entities

    progress = progress or Progress.off()
    entities = graph_entities(graph, emit_options(config, snapshot))
    doing = f"emitting to {config.sink.type}"
    if config.state.path is None:
        proposals = (proposal for entity in entities for proposal in entity_mcps(entity))
        with closing(progress.counted(proposals, doing, "records")) as counted:
            _emit(config, counted, delivered)
        return
    from bridge.emit.state import save_state

    path = Path(config.state.path)
    with state_locked(path, config.sink.timeout):
        update = StateUpdate.start(path, graph, config, snapshot, entities, state_identity(config))
        ahead = update.ahead_state(entities)  # what stays if the emission stops part way
        changes = update.proposals(entities)
        with closing(progress.counted(changes, f"{doing} (changes only)", "records")) as counted:
            _emit(config, counted, delivered, opened=lambda: save_state(path, ahead))
        save_state(path, update.next_state())
    if update.held is not None:
        from bridge.errors import FailSafeError

        raise FailSafeError(str(path), update.held)


@dataclass(frozen=True, slots=True)
class StateUpdate:
    """One incremental emission against a state file (`bridge.emit.state`): the records to send (what changed,
    and the removals the fail-safe lets through), then the state to save once they were delivered. `held`: why
    the fail-safe held every removal (the state file is then kept as it was), else None. Used by `emit_graph`
    and by the DataHub source (`bridge.datahub_source`), which sends through DataHub's pipeline."""

    incremental: Incremental
    removals: Removals
    remove: bool
    unread: Callable[[str], bool]
    held: str | None

    @classmethod
    def start(
        cls,
        path: Path,
        graph: LineageGraph,
        config: BridgeConfig,
        snapshot: AirflowSnapshot | None,
        entities: Sequence[Entity],
        identity: dict[str, str],
    ) -> StateUpdate:
        """Load the state at `path` (a StateError if another `identity` wrote it), and decide the removals."""
        from bridge.emit.state import Incremental, load_state, unread_dags

        threshold = config.state.fail_safe_threshold
        incremental = Incremental(load_state(path, identity), identity, emitter_version(config, snapshot))
        unread = unread_dags(_unread_dag_ids(graph), config.airflow_cluster)
        removals = incremental.removals({e.urn for e in entities}, unread, threshold)
        remove = config.state.remove_stale_metadata and not removals.held
        held = removals.message(threshold) if config.state.remove_stale_metadata and removals.held else None
        return cls(incremental, removals, remove, unread, held)

    def proposals(self, entities: Sequence[Entity]) -> Iterator[MetadataChangeProposalWrapper]:
        from itertools import chain

        from bridge.emit.state import removal_mcps

        return chain(self.incremental.changed(entities), removal_mcps(self.removals.urns if self.remove else ()))

    def ahead_state(self, entities: Sequence[Entity]) -> SyncState:
        """The state to leave while the proposals are out (`Incremental.ahead_state`), the removals included."""
        return self.incremental.ahead_state(entities, self.removals.urns if self.remove else ())

    def next_state(self) -> SyncState:
        """The state to save once every proposal was delivered: what was sent, what was unread kept, and, when
        the fail-safe held the removals, the gone entities as they were (to be held, or removed, next time)."""
        previous = self.incremental.previous
        self.incremental.carry(u for u in (previous.entities if previous else {}) if self.unread(u))
        if self.held is not None:
            self.incremental.carry(self.removals.urns)
        return self.incremental.next_state(self.removals.urns if self.remove else ())


@contextmanager
def state_locked(path: Path, timeout: float) -> Iterator[None]:
    """The state file to this sync alone, from reading it to writing the next one: two syncs sharing it would
    each save their own view, the last one silently undoing the other's removals (`<state>.lock`, `flock`)."""
    path.parent.mkdir(parents=True, exist_ok=True)  # as writing the state file would
    lock = LockFile(path.with_name(path.name + ".lock"))
    lock.acquire(timeout, time.sleep, f"state file {path}", "sink.timeout (or give each sync its own --state)")
    try:
        yield
    finally:
        lock.release()


def _emit(
    config: BridgeConfig,
    proposals: Iterable[MetadataChangeProposalWrapper],
    delivered: Counter[str],
    opened: Callable[[], None] = lambda: None,
) -> None:
    """Open the sink, call `opened` (the state written ahead: not before the sink is known to open), send."""
    from bridge.emit.sinks import open_sink

    sink = open_sink(config.sink)
    try:
        opened()
        sink.emit(proposals)
    finally:
        delivered.update(sink.acknowledged.counts)
        sink.close()


def state_identity(config: BridgeConfig) -> dict[str, str]:
    """What a state file belongs to: what makes the URNs, and where they were sent: the DataHub server, the
    Kafka brokers, the DataHub Lite file (a file sink's output is a new file each time: its type says it)."""
    sink = config.sink
    if sink.type == "datahub-lite":
        target = str(Path(sink.path).resolve()) if sink.path else "default"
    else:
        target = sink.server or sink.bootstrap or ""
    return {
        "env": config.env,
        "platform_instance": config.platform_instance or "",
        "dbt_platform_instance": "(each project's name)"
        if config.dbt_platform_instance_from_project
        else config.dbt_platform_instance or "",
        "airflow_cluster": config.airflow_cluster,
        "lowercase_urns": str(config.lowercase_urns),
        "sink": f"{sink.type} {target}".strip(),
    }


def emitter_version(config: BridgeConfig, snapshot: AirflowSnapshot | None) -> str:
    """What, besides an entity's value, shapes its records: the bridge, DataHub's classes, the emit options."""
    from importlib.metadata import version

    import msgspec

    options = msgspec.json.encode(emit_options(config, snapshot)).decode()
    return f"bridge {version('dbt-lineage-bridge')}, acryl-datahub {version('acryl-datahub')}, {options}"


def _unread_dag_ids(graph: LineageGraph) -> list[str]:
    """DAGs the sources could not read this time (a corrupt serialized row): not gone, only unread."""
    return [p.location.removeprefix("dag ") for p in graph.problems if p.code == "bad-serialized-dag"]


def run_sync(
    config: BridgeConfig,
    clock: Clock,
    emit: bool = True,
    graph_path: Path | None = None,
    airflow: AirflowSnapshot | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """Read, join, write the graph, emit. An error on the way does not escape: it is the result's `failure`,
    with a report of what was read, joined and delivered before it. `airflow`: as for `read_and_join`."""
    graph: LineageGraph | None = None
    delivered: Counter[str] = Counter()
    version = None
    try:
        graph, snapshot = read_and_join(config, clock, airflow, progress)
        version = snapshot.airflow_version if snapshot else None
        if graph_path is not None:
            from bridge.model.graph import graph_to_json

            write_output(graph_path, graph_to_json(graph), "graph")
        if emit:
            emit_graph(graph, config, snapshot, delivered, progress)
    except BridgeError as exc:
        return SyncResult(graph, build_report(graph, dict(delivered), exc), exc, version)
    return SyncResult(graph, build_report(graph, dict(delivered)), None, version)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
