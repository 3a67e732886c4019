"""Reading dbt's `sources.json` (schema v3: what `dbt source freshness` writes, dbt 1.0 and later).

A freshness check is one invocation's outcome for one source, so the file is read as run results: each
result carries the source's `SourceFreshness` (its newest load, when dbt looked, the criteria it applied).
A source dbt could not check (`runtime error`) has a result without one.
"""

from __future__ import annotations

from pathlib import Path

from bridge.model.dbt import FreshnessCriterion, RunResult, RunResults, SourceFreshness
from bridge.read.artifact import checked_schema_version, decode, read_bytes
from bridge.read.dbt import schema

SUPPORTED_SOURCES_VERSIONS = range(3, 4)
FRESHNESS_COMMAND = "source freshness"


def read_sources(path: str | Path) -> RunResults:
    path = Path(path)
    raw = read_bytes(path)
    version = checked_schema_version(path, raw, "sources", SUPPORTED_SOURCES_VERSIONS, "v3")
    parsed = decode(path, raw, "dbt sources.json", schema.SourcesFile)
    return RunResults(
        path=str(path),
        schema_version=version,
        invocation_id=parsed.metadata.invocation_id,
        generated_at=parsed.metadata.generated_at,
        command=FRESHNESS_COMMAND,
        results=tuple(_result(r) for r in parsed.results),
    )


def _result(result: schema.SourceFreshnessStruct) -> RunResult:
    starts = [t.started_at for t in result.timing if t.started_at]
    ends = [t.completed_at for t in result.timing if t.completed_at]
    return RunResult(
        unique_id=result.unique_id,
        status=result.status,
        execution_time=result.execution_time,
        started_at=min(starts) if starts else None,
        completed_at=max(ends) if ends else None,
        message=str(result.error) if result.error is not None else None,
        executed_at=next((t.started_at for t in result.timing if t.name == "execute"), None),
        freshness=_freshness(result),
    )


def _freshness(result: schema.SourceFreshnessStruct) -> SourceFreshness | None:
    if not (result.max_loaded_at and result.snapshotted_at):
        return None
    return SourceFreshness(
        max_loaded_at=result.max_loaded_at,
        snapshotted_at=result.snapshotted_at,
        age_s=result.max_loaded_at_time_ago_in_s,
        warn_after=_criterion(result.criteria.warn_after),
        error_after=_criterion(result.criteria.error_after),
    )


def _criterion(given: schema.FreshnessCriterionStruct | None) -> FreshnessCriterion | None:
    if given is None or given.count is None or given.period is None:
        return None
    return FreshnessCriterion(given.count, given.period)
