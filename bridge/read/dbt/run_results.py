"""Reading dbt's `run_results.json` (schema v4 to v6) and `catalog.json` (v1)."""

from __future__ import annotations

from pathlib import Path

from bridge.model.dbt import CatalogColumn, CatalogTable, RunResult, RunResults
from bridge.read.artifact import checked_schema_version, decode, read_bytes
from bridge.read.dbt import schema

SUPPORTED_RUN_RESULTS_VERSIONS = range(4, 7)
SUPPORTED_CATALOG_VERSIONS = range(1, 2)


def read_run_results(path: str | Path) -> RunResults:
    path = Path(path)
    raw = read_bytes(path)
    version = checked_schema_version(path, raw, "run-results", SUPPORTED_RUN_RESULTS_VERSIONS, "v4 to v6")
    parsed = decode(path, raw, "dbt run_results.json", schema.RunResultsFile)
    return RunResults(
        path=str(path),
        schema_version=version,
        invocation_id=parsed.metadata.invocation_id,
        generated_at=parsed.metadata.generated_at,
        command=_command(parsed.args),
        results=tuple(result_from_struct(r) for r in parsed.results),
    )


def read_catalog(path: str | Path) -> dict[str, CatalogTable]:
    """Catalog entries by node unique_id (models, seeds, snapshots and sources alike)."""
    path = Path(path)
    raw = read_bytes(path)
    checked_schema_version(path, raw, "catalog", SUPPORTED_CATALOG_VERSIONS, "v1")
    parsed = decode(path, raw, "dbt catalog.json", schema.CatalogFile)
    entries = {**parsed.nodes, **parsed.sources}
    return {uid: _table(uid, entry, parsed.metadata) for uid, entry in sorted(entries.items())}


def _command(args: dict[str, object]) -> str | None:
    which = args.get("which")
    return str(which) if which else None


def result_from_struct(result: schema.RunResultStruct) -> RunResult:
    starts = [t.started_at for t in result.timing if t.started_at]
    ends = [t.completed_at for t in result.timing if t.completed_at]
    return RunResult(
        unique_id=result.unique_id,
        status=result.status,
        execution_time=result.execution_time,
        started_at=min(starts) if starts else None,
        completed_at=max(ends) if ends else None,
        message=result.message,
        failures=result.failures,
        executed_at=next((t.started_at for t in result.timing if t.name == "execute"), None),
        execute_completed_at=next((t.completed_at for t in result.timing if t.name == "execute"), None),
    )


def _table(unique_id: str, entry: schema.CatalogEntry, metadata: schema.Metadata) -> CatalogTable:
    # The table's order (a catalog dbt writes lists them so; DataHub's dbt source follows the file's key order)
    columns = sorted(entry.columns.values(), key=lambda c: c.index)
    return CatalogTable(
        unique_id=unique_id,
        table_type=entry.metadata.type,
        owner=entry.metadata.owner,
        columns=tuple(CatalogColumn(c.name, c.type, c.index, c.comment) for c in columns),
        catalog_schema=metadata.dbt_schema_version or None,
        catalog_version=metadata.dbt_version or None,
    )
