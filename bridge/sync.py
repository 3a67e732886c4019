"""One sync, in order: read dbt artifacts and Airflow, join them, emit the graph, report.

This is the only place that knows every edge; each step is a call into read/, join/ or emit/.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.config import BridgeConfig
from bridge.errors import BridgeError
from bridge.join.pipeline import join_lineage
from bridge.model.airflow import AirflowSnapshot
from bridge.model.graph import LineageGraph
from bridge.model.report import RunReport
from bridge.outputs import write_output
from bridge.read.dbt.inputs import read_dbt
from bridge.report import build_report

if TYPE_CHECKING:
    from bridge.emit.common import EmitOptions

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class SyncResult:
    """The joined graph (None when the sync stopped before the join), the run report, and the error that
    stopped the sync, if one did (the report then says how far it got)."""

    graph: LineageGraph | None
    report: RunReport
    failure: BridgeError | None = None


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
    config: BridgeConfig, clock: Clock, airflow: AirflowSnapshot | None = None
) -> tuple[LineageGraph, AirflowSnapshot | None]:
    """The joined graph of everything the configuration names, and the Airflow snapshot it was joined with.
    `airflow`: a snapshot already taken (the operator's, from inside a running DAG) instead of reading one."""
    dbt = read_dbt(config.dbt)
    snapshot = airflow if airflow is not None else read_airflow(config, clock)
    return join_lineage(list(dbt.projects), snapshot, config.join_settings(), dbt.run_results, dbt.catalog), snapshot


def emit_options(config: BridgeConfig, snapshot: AirflowSnapshot | None) -> EmitOptions:
    """How records are shaped besides the graph: links into the Airflow UI of the version that was read."""
    from bridge.emit.airflow_urls import AirflowUrls
    from bridge.emit.common import EmitOptions

    major = int(snapshot.airflow_version.split(".")[0]) if snapshot and snapshot.airflow_version else None
    return EmitOptions(urls=AirflowUrls(config.airflow_api.url, major))


def emit_graph(
    graph: LineageGraph, config: BridgeConfig, snapshot: AirflowSnapshot | None, delivered: Counter[str]
) -> None:
    """Send the graph to the configured sink. `delivered` receives the MCP counts by aspect that the sink
    wrote or had acknowledged, also when it fails part way."""
    from bridge.emit.mcps import graph_to_mcps
    from bridge.emit.sinks import open_sink

    sink = open_sink(config.sink)
    try:
        sink.emit(graph_to_mcps(graph, emit_options(config, snapshot)))
    finally:
        delivered.update(sink.acknowledged.counts)
        sink.close()


def run_sync(
    config: BridgeConfig,
    clock: Clock,
    emit: bool = True,
    graph_path: Path | None = None,
    airflow: AirflowSnapshot | None = None,
) -> SyncResult:
    """Read, join, write the graph, emit. An error on the way does not escape: it is the result's `failure`,
    with a report of what was read, joined and delivered before it. `airflow`: as for `read_and_join`."""
    graph: LineageGraph | None = None
    delivered: Counter[str] = Counter()
    try:
        graph, snapshot = read_and_join(config, clock, airflow)
        if graph_path is not None:
            from bridge.model.graph import graph_to_json

            write_output(graph_path, graph_to_json(graph), "graph")
        if emit:
            emit_graph(graph, config, snapshot, delivered)
    except BridgeError as exc:
        return SyncResult(graph, build_report(graph, dict(delivered), exc), exc)
    return SyncResult(graph, build_report(graph, dict(delivered)))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
