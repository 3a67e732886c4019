"""`BridgeSyncOperator`: the last task of a Cosmos DAG sends the DAG's joined lineage and this run to DataHub.

An adapter, not a second pipeline: the task builds an `AirflowSnapshot` of its own DAG and run from what
Airflow hands it (`live.py`), reads the dbt manifest (or export) Cosmos rendered the DAG from, and runs the
same `run_sync` as `python -m bridge sync` with that snapshot. DataHub is reached through an Airflow
connection of DataHub's own plugin's types (`connection.py`), so the token stays in Airflow's connection
store. The run report goes to the task log; a failed sync fails this task, never the dbt tasks.

`add_bridge_task` appends the operator after a `DbtDag` or a `DbtTaskGroup`: downstream of its last tasks,
as a teardown (it runs whatever they did, and the DAG run's state stays theirs).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from airflow.exceptions import AirflowException

from bridge.airflow.connection import DEFAULT_CONN_ID, sink_settings
from bridge.run_report import DEFAULT_FAIL_ON

try:  # Airflow 3: the Task SDK
    from airflow.sdk import BaseHook, BaseOperator
except ImportError:  # Airflow 2
    from airflow.hooks.base import BaseHook
    from airflow.models.baseoperator import BaseOperator


# What a config file's `sink:` may still set when the connection says where to send: how, not where.
SINK_TUNING = frozenset({"batch_size", "max_retries", "retry_backoff", "timeout"})


class BridgeSyncOperator(BaseOperator):  # type: ignore[misc]  # Airflow is untyped to mypy
    """Emit this DAG's lineage (flows, jobs, dbt and warehouse datasets, domains, owners, tags) and this run's
    process instances to DataHub.

    :param manifest_path: the dbt manifest the DAG was rendered from (templated); `add_bridge_task` takes it
        from Cosmos' ProjectConfig (its manifest, else the project's target/manifest.json).
    :param export_path: a file holding the dbt package's export (`dbt run-operation bridge_export`), instead
        of or beside the manifest (templated).
    :param config: the bridge's settings (env, platform instances, domain rules, ...) as a mapping or the
        path of a bridge.yml or recipe; its inputs and sink are replaced by the above and the connection.
    :param datahub_conn_id: the Airflow connection to DataHub (types datahub-rest, datahub-kafka,
        datahub-file, as DataHub's Airflow plugin reads them).
    :param fail_on: the problems that fail the task, as `--fail-on` (default: errors; `none`: never).
    """

    template_fields: Sequence[str] = ("manifest_path", "export_path")
    ui_color = "#d6e4f0"

    def __init__(
        self,
        *,
        manifest_path: str | os.PathLike[str] | None = None,
        export_path: str | os.PathLike[str] | None = None,
        config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        datahub_conn_id: str = DEFAULT_CONN_ID,
        fail_on: str = DEFAULT_FAIL_ON,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.manifest_path = str(manifest_path) if manifest_path else None
        self.export_path = str(export_path) if export_path else None
        self.config = config if isinstance(config, Mapping) or config is None else str(config)
        self.datahub_conn_id = datahub_conn_id
        self.fail_on = fail_on

    def execute(self, context: Any) -> dict[str, int]:
        from bridge.airflow.live import snapshot_of_run
        from bridge.config import build_config
        from bridge.errors import BridgeError
        from bridge.model.airflow import DagRuns, TaskInstances
        from bridge.redact import Redactor
        from bridge.run_report import parse_fail_on, redact_report, report_as_text
        from bridge.sync import run_sync, utc_now

        try:
            rules = parse_fail_on(self.fail_on)
            config = build_config(self.settings(), f"{self.task_id} config")
        except BridgeError as exc:  # the configuration or the connection: one line, nothing secret in it
            raise AirflowException(f"{self.task_id}: {exc}") from None
        redact = Redactor(config.secrets())
        try:
            snapshot = snapshot_of_run(context)
        except Exception as exc:
            reason = redact(f"{type(exc).__name__}: {exc}")
            raise AirflowException(
                f"{self.task_id}: cannot describe DAG {self.dag_id} from inside the run ({reason}); the dbt "
                "tasks are not affected."
            ) from None
        if not config.run_history.enabled:
            snapshot = replace(snapshot, dag_runs=DagRuns(), task_instances=TaskInstances())
        result = run_sync(config, utc_now, airflow=snapshot)
        report = redact_report(result.report, redact)
        for line in report_as_text(report, rules).splitlines():
            self.log.info("%s", line)
        if result.failure is not None:
            raise AirflowException(f"the lineage sync failed: {redact(str(result.failure))}")
        failing = report.failing(rules)
        if failing:
            raise AirflowException(f"{len(failing)} problem(s) match fail_on={self.fail_on}: {failing[0]}")
        return dict(report.emitted)

    def settings(self) -> dict[str, Any]:
        """The bridge settings of this task: the given ones, its dbt inputs, the connection's sink, and links
        into this Airflow's UI."""
        from bridge.config_yaml import load_config_data

        given = load_config_data(self.config, os.environ) if isinstance(self.config, str) else dict(self.config or {})
        dbt = dict(given.get("dbt") or {})
        manifests = [self.manifest_path] if self.manifest_path else [] if self.export_path else self._rendered_from()
        dbt.update(manifests=manifests, exports=[self.export_path] if self.export_path else [])
        api = dict(given.get("airflow_api") or {})
        api.setdefault("url", _airflow_ui_url())
        given.pop("airflow_db", None)
        tuning = {k: v for k, v in (given.get("sink") or {}).items() if k in SINK_TUNING}
        return given | {"dbt": dbt, "airflow_api": api, "sink": tuning | self.sink()}

    def sink(self) -> dict[str, Any]:
        conn = BaseHook.get_connection(self.datahub_conn_id)
        return sink_settings(
            self.datahub_conn_id, conn.conn_type, conn.host, conn.port, conn.password, conn.extra_dejson
        )

    def _rendered_from(self) -> list[str]:
        """No manifest given: the one Cosmos rendered this DAG from, when the DAG is a DbtDag."""
        found = cosmos_manifest(self.dag)
        if found is None:
            raise AirflowException(
                f"{self.task_id}: no dbt manifest: pass manifest_path= (or export_path=), or append the task "
                "with bridge.airflow.add_bridge_task(), which takes it from Cosmos' ProjectConfig."
            )
        return [found]


def cosmos_manifest(converter: Any) -> str | None:
    """The manifest a Cosmos DbtDag / DbtTaskGroup was rendered from: its ProjectConfig's manifest_path, else
    `target/manifest.json` of its project (ProjectConfig's path, else RenderConfig's); None when the object is
    not Cosmos' or names no project. A manifest in object storage (`s3://...`) is refused: the task reads a
    local file."""
    graph = getattr(converter, "dbt_graph", None)
    project = getattr(graph, "project", None)
    if project is None:
        return None
    manifest = getattr(project, "manifest_path", None)
    if manifest:
        if "://" in str(manifest):
            raise ValueError(
                f"Cosmos renders this DAG from {manifest}, which the bridge task cannot open: pass "
                "manifest_path= a local copy (or export_path=) to add_bridge_task()."
            )
        return str(manifest)
    render = getattr(graph, "render_config", None)
    project_dir = getattr(project, "dbt_project_path", None) or getattr(render, "project_path", None)
    return str(Path(project_dir) / "target" / "manifest.json") if project_dir else None


def add_bridge_task(
    dbt: Any, *, task_id: str = "datahub_lineage", inside: bool = False, **kwargs: Any
) -> BridgeSyncOperator:
    """Append a `BridgeSyncOperator` after a Cosmos `DbtDag` or `DbtTaskGroup` (call it once the DAG's other
    dependencies are set): downstream of every last task of it, as a teardown, so it runs when they failed
    too and the DAG run's state stays theirs. `inside=True` puts it inside the task group. Other keyword
    arguments go to the operator; the manifest defaults to the one Cosmos rendered from."""
    try:
        from airflow.sdk import TaskGroup
    except ImportError:  # Airflow 2
        from airflow.utils.task_group import TaskGroup

    if not kwargs.get("manifest_path") and not kwargs.get("export_path"):
        kwargs["manifest_path"] = cosmos_manifest(dbt)
        if kwargs["manifest_path"] is None:
            raise ValueError(
                f"add_bridge_task: {type(dbt).__name__} names no dbt project or manifest the task could read: "
                "pass manifest_path= (or export_path=)."
            )
    if isinstance(dbt, TaskGroup):
        leaves = list(dbt.get_leaves())
        placement = {"task_group": dbt} if inside else {}
        task = BridgeSyncOperator(task_id=task_id, dag=dbt.dag, **placement, **kwargs)
    else:
        leaves = [t for t in dbt.tasks if not t.downstream_task_ids]
        task = BridgeSyncOperator(task_id=task_id, dag=dbt, **kwargs)
    task.set_upstream(leaves)
    task.as_teardown()
    return task


def _airflow_ui_url() -> str | None:
    """This Airflow's UI, for links (Airflow 3: `[api] base_url`, Airflow 2: `[webserver] base_url`)."""
    from airflow.configuration import conf

    for section in ("api", "webserver"):
        url = conf.get(section, "base_url", fallback=None)
        if url:
            return str(url).rstrip("/")
    return None
