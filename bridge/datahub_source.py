"""The bridge as a DataHub ingestion source: `source: {type: bridge, config: {...}}` in a recipe.

`datahub ingest -c recipe.yml` then does what `python -m bridge sync --config recipe.yml` does, with
DataHub's own machinery around it: its sinks, transformers, `pipeline_name`, `--dry-run`, `--preview`.
The config is the bridge's one typed model (`BridgeConfig`, the original connector's keys included); the
work units are the records `sync` emits, from the same read and join, unchanged: of DataHub's automatic
work-unit processors only the one that counts them runs (the others would add or rewrite aspects, and
the two ways in would no longer agree). The run report's counts and problems are the source report's:
errors as failures, warnings as warnings, the rest as infos, grouped by problem code.

Removing what is gone, one of two ways:
- DataHub's stateful ingestion (`stateful_ingestion:` in source.config, `pipeline_name:` in the recipe):
  DataHub's `StaleEntityRemovalHandler`, its checkpoints (state provider `datahub` or `file`) and its
  fail-safe, told only of the kinds the bridge removes (DAGs, tasks, datasets, assertions; a run ages out
  and a domain is shared: never soft-deleted). Every run yields every record, as the handler needs.
- The bridge's own state file (`state:`), as `bridge sync --state`: only what changed, and the removals
  (`bridge.sync.StateUpdate`). The file belongs to the recipe's sink. Before the first record, the state to
  leave if the run stops part way is written (`Incremental.ahead_state`); the run's own state replaces it,
  written by DataHub's pipeline after the run (a committable), only when the run had no errors (the
  fail-safe holding removals is one). Neither `--dry-run` nor `--preview` writes either. Unlike `bridge
  sync`, two pipelines on one state file are not kept apart by a lock: schedule them one after the other.
The two cannot be combined: DataHub's handler would take every unchanged entity for a removed one.

Registered through the `datahub.ingestion.source.plugins` entry point (pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.ingestion.api.committable import CommitPolicy, Committable
from datahub.ingestion.api.common import PipelineContext
from datahub.ingestion.api.decorators import SupportStatus, config_class, platform_name, support_status
from datahub.ingestion.api.source import MetadataWorkUnitProcessor, Source
from datahub.ingestion.api.workunit import MetadataWorkUnit
from datahub.ingestion.source.state.entity_removal_state import GenericCheckpointState
from datahub.ingestion.source.state.stale_entity_removal_handler import (
    StaleEntityRemovalHandler,
    StaleEntityRemovalSourceReport,
    StatefulStaleMetadataRemovalConfig,
)
from datahub.ingestion.source.state.stateful_ingestion_base import StateProviderWrapper
from pydantic import ValidationError

from bridge.config import BridgeConfig, SinkConfig, build_config
from bridge.emit.mcps import Entity
from bridge.errors import BridgeError, ConfigError
from bridge.model.report import PROBLEM_CODES, Problem
from bridge.redact import Redactor
from bridge.run_report import build_report
from bridge.sync import StateUpdate

WHERE = "recipe source.config"


@dataclass
class BridgeSourceReport(StaleEntityRemovalSourceReport):
    """DataHub's source report, with the bridge's run-report counts (datasets, DAGs, Cosmos tasks matched...)
    and, with a state file, the entities left out as unchanged since the last run."""

    bridge_counts: dict[str, int] = field(default_factory=dict)
    bridge_problems: dict[str, int] = field(default_factory=dict)  # problems by code
    unchanged_entities: int = 0

    def add_problem(self, problem: Problem, redact: Redactor) -> None:
        self.bridge_problems[problem.code] = self.bridge_problems.get(problem.code, 0) + 1
        report = {"error": self.failure, "warning": self.warning}.get(problem.severity, self.info)
        description = PROBLEM_CODES.get(problem.code, problem.code)
        report(
            message=description,  # one per code: DataHub groups entries by message
            context=redact(f"{problem.location}: {problem.message}"),
            title=problem.code,
            log=False,
        )


@platform_name("Airflow + dbt (dbt-lineage-bridge)", id="bridge")
@config_class(BridgeConfig)
@support_status(SupportStatus.BETA)
class BridgeSource(Source):
    """dbt models, Airflow DAGs and tasks, warehouse tables and Airflow assets as one lineage graph."""

    def __init__(self, config: BridgeConfig, ctx: PipelineContext) -> None:
        super().__init__(ctx)
        self.config = config
        self.report = BridgeSourceReport()
        self.redact = Redactor(config.secrets())
        self.state_provider: StateProviderWrapper | None = None
        self.stale_entities: StaleEntityRemovalHandler | None = None
        if config.stateful_ingestion is not None and config.stateful_ingestion.enabled:
            self.state_provider = StateProviderWrapper(config.stateful_ingestion, ctx)
            self.stale_entities = StaleEntityRemovalHandler(
                state_provider=self.state_provider,
                report=self.report,
                config=config,  # type: ignore[arg-type]  # it reads `config.stateful_ingestion` only
                state_type_class=GenericCheckpointState,
                pipeline_name=ctx.pipeline_name,
                run_id=ctx.run_id,
                platform="bridge",
            )

    @classmethod
    def create(cls, config_dict: dict[str, Any], ctx: PipelineContext) -> BridgeSource:
        return cls(source_config(config_dict), ctx)

    def get_config(self) -> BridgeConfig:  # type: ignore[override]  # the bridge's model, not a ConfigModel
        return self.config

    def get_report(self) -> BridgeSourceReport:
        return self.report

    def get_allowed_workunit_processors(self) -> list[Any]:
        return ["AutoWorkunitsReporterProcessor"]

    def get_workunit_processors(self) -> list[MetadataWorkUnitProcessor | None]:
        removal = partial(removable_entities, self.stale_entities) if self.stale_entities is not None else None
        return [*super().get_workunit_processors(), removal]

    def get_workunits_internal(self) -> Iterable[MetadataWorkUnit]:
        self.report_config_warnings()
        try:
            proposals = self.proposals()
        except BridgeError as exc:
            self.report.failure(message="the sync stopped", context=self.redact(str(exc)), title="run-failed")
            return
        for mcp in proposals:
            yield mcp.as_workunit()

    def proposals(self) -> Iterable[MetadataChangeProposalWrapper]:
        """Read and join, report; then every record, or with a state file what changed and the removals."""
        from bridge.emit.mcps import entity_mcps, graph_entities
        from bridge.sync import emit_options, read_and_join, utc_now

        graph, snapshot = read_and_join(self.config, utc_now)
        report = build_report(graph, {})
        self.report.bridge_counts = dict(report.counts)
        for problem in report.problems:
            self.report.add_problem(problem, self.redact)
        entities = graph_entities(graph, emit_options(self.config, snapshot))
        if self.config.state.path is None:
            return (proposal for entity in entities for proposal in entity_mcps(entity))
        path = Path(self.config.state.path)
        update = StateUpdate.start(path, graph, self.config, snapshot, entities, self.state_identity())
        return self.incremental(path, update, entities)

    def report_config_warnings(self) -> None:
        warnings = list(self.config.warnings)
        if "sink" in self.config.model_fields_set:
            warnings.append("source.config.sink is not used here: DataHub's pipeline sends to the recipe's sink:")
        for warning in warnings:
            self.report.warning(message="configuration", context=self.redact(warning), title="configuration")

    def incremental(
        self, path: Path, update: StateUpdate, entities: Sequence[Entity]
    ) -> Iterable[MetadataChangeProposalWrapper]:
        """What changed since the state file's run, then the removals; the file is written after the run."""
        if update.held is not None:
            self.report.failure(message="stale-entity removal held by the fail-safe", context=update.held,
                                title="fail-safe")  # fmt: skip
        writes = not (self.ctx.dry_run_mode or self.ctx.preview_mode)
        if writes:
            from bridge.emit.state import save_state

            self.ctx.register_checkpointer(StateFileCommit(path, update, self.report, self.redact))
            # what stays if the run stops part way; replaced by the whole state after a run without errors
            save_state(path, update.ahead_state(entities))
        yield from update.proposals(entities)
        self.report.unchanged_entities = update.incremental.skipped
        for urn in sorted(update.removals.urns if update.remove else ()):
            self.report.report_stale_entity_soft_deleted(urn)

    def state_identity(self) -> dict[str, str]:
        """The state identity of `bridge sync` (`bridge.sync.state_identity`), its sink the recipe's sink."""
        from bridge.sync import state_identity

        return state_identity(self.config.model_copy(update={"sink": pipeline_sink(self.ctx)}))

    def close(self) -> None:
        if self.state_provider is not None:
            self.state_provider.prepare_for_commit()  # DataHub's checkpoint, committed by its pipeline
        super().close()


class StateFileCommit(Committable):
    """The bridge's state file, written by DataHub's pipeline once the run is over, if it had no errors."""

    def __init__(self, path: Path, update: StateUpdate, report: BridgeSourceReport, redact: Redactor) -> None:
        super().__init__(name="bridge-state-file", commit_policy=CommitPolicy.ON_NO_ERRORS)
        self.path, self.update, self.report, self.redact = path, update, report, redact

    def commit(self) -> None:
        from bridge.emit.state import save_state

        try:
            save_state(self.path, self.update.next_state())
        except BridgeError as exc:
            self.report.failure(message="the state file was not written", context=self.redact(str(exc)),
                                title="state-file")  # fmt: skip


def removable_entities(
    handler: StaleEntityRemovalHandler, stream: Iterable[MetadataWorkUnit]
) -> Iterable[MetadataWorkUnit]:
    """DataHub's `auto_stale_entity_removal`, told only of the entities of the kinds the bridge removes
    (`bridge.emit.state.REMOVABLE`) whose `status` it sends: a run (DataProcessInstance) is history that ages
    out, a domain may be anyone's, and a warehouse table the bridge names beside its dbt model is the
    warehouse connector's; none enters DataHub's checkpoint, so none is ever soft-deleted by it."""
    from bridge.emit.state import REMOVABLE, entity_kind

    for workunit in stream:
        urn = workunit.get_urn()
        if entity_kind(urn) in REMOVABLE and getattr(workunit.metadata, "aspectName", None) == "status":
            handler.add_entity_to_state(type="", urn=urn)  # the bridge sends its status: it may remove it
        yield workunit
    yield from handler.gen_removed_entity_workunits()


def source_config(config_dict: dict[str, Any]) -> BridgeConfig:
    """The bridge's configuration, with DataHub's `stateful_ingestion` (which `build_config` leaves out)."""
    settings = dict(config_dict)
    stateful = settings.pop("stateful_ingestion", None)
    config = build_config(settings, WHERE)
    if stateful is None:
        return config
    datahub_state = stateful_ingestion(stateful)
    if datahub_state.enabled and config.state.path is not None:
        raise ConfigError(f"{WHERE}: stateful_ingestion and state.path both remove what is gone, each its own way: "
                          "set one of them (DataHub's checkpoints need every entity in every run; the state file "
                          "sends only what changed)")  # fmt: skip
    return config.model_copy(update={"stateful_ingestion": datahub_state})


def stateful_ingestion(value: object) -> StatefulStaleMetadataRemovalConfig:
    """`stateful_ingestion` validated by DataHub's own class, its errors as one ConfigError naming the setting."""
    try:
        return StatefulStaleMetadataRemovalConfig.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(['stateful_ingestion', *map(str, e['loc'])])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ConfigError(f"{WHERE}: {problems}.") from None


# A DataHub recipe sink's setting that says where records go, as the bridge's sink field, by sink type.
_SINK_TARGETS = {"datahub-rest": ("server", "server"), "datahub-kafka": ("connection.bootstrap", "bootstrap"),
                 "datahub-lite": ("config.file", "path"), "file": ("", "")}  # fmt: skip


def pipeline_sink(ctx: PipelineContext) -> SinkConfig:
    """The recipe's sink as the bridge's sink settings, for the state identity (a file sink writes a new file
    each run: its type says it). No sink in the recipe: DataHub's default, REST to the pipeline's DataHub."""
    if ctx.pipeline_config is None:
        raise ConfigError(f"{WHERE}: state.path: the source runs outside a DataHub pipeline, so its sink (which a "
                          "state file belongs to) is unknown")  # fmt: skip
    sink = ctx.pipeline_config.sink
    if sink is None:
        server = ctx.graph.config.server if ctx.graph is not None else None
        return SinkConfig.model_construct(type="datahub-rest", server=server)
    if sink.type not in _SINK_TARGETS:
        raise ConfigError(f"{WHERE}: state.path: the recipe's sink type {sink.type!r} is not one a state file can "
                          f"belong to ({', '.join(_SINK_TARGETS)}); use stateful_ingestion, or no state")  # fmt: skip
    setting, bridge_field = _SINK_TARGETS[sink.type]
    value: Any = sink.config or {}
    for part in setting.split(".") if setting else ():
        value = value.get(part) if isinstance(value, dict) else None
    target = {bridge_field: value} if setting and value is not None else {}
    try:
        return SinkConfig.model_validate({"type": sink.type, **target})
    except ValidationError:
        raise ConfigError(f"{WHERE}: state.path: the recipe's sink.config.{setting} is not valid") from None
