"""The bridge as a DataHub ingestion source: `source: {type: bridge, config: {...}}` in a recipe.

`datahub ingest -c recipe.yml` then does what `python -m bridge sync --config recipe.yml` does, with
DataHub's own machinery around it: its sinks, transformers, `pipeline_name`, `--dry-run`, `--preview`.
The config is the bridge's one typed model (`BridgeConfig`, the original connector's keys included); the
work units are the records `sync` emits, from the same read and join, unchanged: of DataHub's automatic
work-unit processors only the one that counts them runs (the others would add or rewrite aspects, and
the two ways in would no longer agree). The run report's counts and problems are the source report's:
errors as failures, warnings as warnings, the rest as infos, grouped by problem code.

Registered through the `datahub.ingestion.source.plugins` entry point (pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from datahub.ingestion.api.common import PipelineContext
from datahub.ingestion.api.decorators import SupportStatus, config_class, platform_name, support_status
from datahub.ingestion.api.source import Source, SourceReport
from datahub.ingestion.api.workunit import MetadataWorkUnit

from bridge.config import BridgeConfig, build_config
from bridge.errors import BridgeError
from bridge.model.report import PROBLEM_CODES, Problem
from bridge.redact import Redactor
from bridge.report import build_report


@dataclass
class BridgeSourceReport(SourceReport):
    """DataHub's source report, with the bridge's run-report counts (datasets, DAGs, Cosmos tasks matched...)."""

    bridge_counts: dict[str, int] = field(default_factory=dict)
    bridge_problems: dict[str, int] = field(default_factory=dict)  # problems by code

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

    @classmethod
    def create(cls, config_dict: dict[str, Any], ctx: PipelineContext) -> BridgeSource:
        return cls(build_config(config_dict, "recipe source.config"), ctx)

    def get_config(self) -> BridgeConfig:  # type: ignore[override]  # the bridge's model, not a ConfigModel
        return self.config

    def get_report(self) -> BridgeSourceReport:
        return self.report

    def get_allowed_workunit_processors(self) -> list[Any]:
        return ["AutoWorkunitsReporterProcessor"]

    def get_workunits_internal(self) -> Iterable[MetadataWorkUnit]:
        from bridge.emit.mcps import graph_to_mcps
        from bridge.sync import emit_options, read_and_join, utc_now

        warnings = list(self.config.warnings)
        if "sink" in self.config.model_fields_set:
            warnings.append("source.config.sink is not used here: DataHub's pipeline sends to the recipe's sink:")
        for warning in warnings:
            self.report.warning(message="configuration", context=self.redact(warning), title="configuration")
        try:
            graph, snapshot = read_and_join(self.config, utc_now)
        except BridgeError as exc:
            self.report.failure(message="the sync stopped", context=self.redact(str(exc)), title="run-failed")
            return
        report = build_report(graph, {})
        self.report.bridge_counts = dict(report.counts)
        for problem in report.problems:
            self.report.add_problem(problem, self.redact)
        for mcp in graph_to_mcps(graph, emit_options(self.config, snapshot)):
            yield mcp.as_workunit()
