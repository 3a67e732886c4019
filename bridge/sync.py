"""One sync, in order: read dbt artifacts and Airflow, join them, emit the graph, report.

This is the only place that knows every edge; each step is a call into read/, join/ or emit/.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

from bridge.config import AirflowDbConfig, BridgeConfig
from bridge.errors import ConfigError
from bridge.join.pipeline import join_lineage
from bridge.model.airflow import AirflowSnapshot
from bridge.model.dbt import DbtProject
from bridge.model.graph import LineageGraph
from bridge.model.report import RunReport
from bridge.paths import expand_paths, write_output
from bridge.plan import join_settings
from bridge.report import build_report

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class SyncResult:
    graph: LineageGraph
    report: RunReport


def read_projects(patterns: list[str]) -> list[DbtProject]:
    from bridge.read.dbt.manifest import read_manifest

    if not patterns:
        raise ConfigError("no dbt manifest given: pass --manifest PATH or set dbt.manifests in --config.")
    return [read_manifest(path) for path in expand_paths(patterns, "manifest")]


def airflow_db_url(db: AirflowDbConfig) -> str | None:
    """The database URL: `url` as given, else one built from host/port/database/username/password."""
    if db.url is not None:
        return db.url.get_secret_value()
    if not db.host:
        return None
    user = quote(db.username or "", safe="")
    password = f":{quote(db.password.get_secret_value(), safe='')}" if db.password else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgresql://{auth}{db.host}:{db.port}/{db.database}"


def read_airflow(config: BridgeConfig, clock: Clock) -> AirflowSnapshot | None:
    """Airflow from its metadata DB; None when no DB is configured (`airflow_api.url` then only makes links)."""
    url = airflow_db_url(config.airflow_db)
    if url is None:
        return None
    from bridge.read.airflow_db.reader import read_airflow_db

    since = (clock() - timedelta(days=config.run_history.days)).isoformat() if config.run_history.enabled else None
    return read_airflow_db(url, since=since)


def emit_graph(graph: LineageGraph, config: BridgeConfig, snapshot: AirflowSnapshot | None) -> dict[str, int]:
    """Send the graph to the configured sink; MCP counts by aspect."""
    from bridge.emit.airflow_urls import AirflowUrls
    from bridge.emit.common import EmitOptions
    from bridge.emit.mcps import graph_to_mcps
    from bridge.emit.sinks import open_sink

    major = int(snapshot.airflow_version.split(".")[0]) if snapshot and snapshot.airflow_version else None
    sink = open_sink(config.sink)
    try:
        options = EmitOptions(urls=AirflowUrls(config.airflow_api.url, major))
        return dict(sink.emit(graph_to_mcps(graph, options)).counts)
    finally:
        sink.close()


def run_sync(config: BridgeConfig, clock: Clock, emit: bool = True, graph_path: Path | None = None) -> SyncResult:
    projects = read_projects(config.dbt.manifests)
    snapshot = read_airflow(config, clock)
    graph = join_lineage(projects, snapshot, join_settings(config))
    if graph_path is not None:
        from bridge.model.graph import graph_to_json

        write_output(graph_path, graph_to_json(graph), "graph")
    emitted = emit_graph(graph, config, snapshot) if emit else {}
    return SyncResult(graph, build_report(graph, emitted))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
