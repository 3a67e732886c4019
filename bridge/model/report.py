"""What a run report holds: problems found while reading and joining, with where they are, and the counts.
Making one from a sync and showing it is `bridge.run_report`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

# Every problem code the bridge reports, with what it means: `--fail-on` accepts these and the severities.
PROBLEM_CODES: dict[str, str] = {
    "bad-serialized-dag": "a DAG's serialized row cannot be decoded; the DAG is skipped",
    "cosmos-selector-not-evaluated": "a Cosmos task's selection is unknown (REST before a run) or needs dbt state",
    "cosmos-task-builds-nothing": "a Cosmos task runs a dbt command that builds no table (run-operation, ls...)",
    "dag-gone": "a DAG the Airflow API listed was deleted before it was read (HTTP 404); it is left out",
    "dag-import-error": "a DAG file Airflow could not import: its DAGs are missing",
    "dbt-export-mismatch": "a project's export places nodes elsewhere than its manifest (another target)",
    "domain-conflict": "a DAG's dbt models disagree on its domain; none is set",
    "duplicate-dbt-node": "two manifests define the same dbt node; the first manifest (by path) wins",
    "legacy-guess-wrong": "the old prefix mapping would have placed a model in another table",
    "model-without-domain": "a dbt model whose meta, group and rules give it no domain",
    "node-without-relation": "a dbt node has no schema or relation in the manifest, so no warehouse table",
    "rest-client": "a note from the Airflow REST client (TLS verification off, ...)",
    "source-limitation": "a fact the Airflow source (REST) cannot give",
    "unknown-asset-scheme": "an asset URI whose scheme maps to no dataset platform; kept as it is",
    "unmatched-cosmos-task": "a Cosmos task matched to no dbt node",
    "run-failed": "the sync stopped: a source, a sink or an input failed (the report says how far it got)",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem, e.g. code `unmatched-cosmos-task` at `dag finance_dbt, task stg_x_run`."""

    code: str
    severity: Severity
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.location}: {self.message} [{self.code}]"


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one sync read, joined and emitted, and every problem it found, with where it is."""

    counts: dict[str, int]
    emitted: dict[str, int]  # MCPs by aspect name (delivered: written, or acknowledged by the server)
    problems: tuple[Problem, ...]
    failure: Problem | None = None  # what stopped the sync (code `run-failed`), when something did

    def failing(self, fail_on: frozenset[str]) -> list[Problem]:
        """The problems that fail the run: those whose code or severity is named in `fail_on`."""
        return [p for p in self.problems if p.code in fail_on or p.severity in fail_on]
