"""What dbt's other artifacts add to the graph: catalog columns on dbt entities, run results as dbt results.

Columns follow DataHub's dbt source: the catalog's columns in its order, with the name and type the
warehouse reported; the description is the one the project documents for the column (matched by name,
ignoring case), the warehouse's comment, or both when they differ; tags are the column's own. A node the
catalog does not hold (an ephemeral model, a table not built yet) gets the columns its project documents,
with their declared `data_type`, as DataHub's dbt source falls back to them. Columns are read only when a
catalog is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from bridge.join.dbt_datasets import dbt_key
from bridge.join.settings import JoinSettings
from bridge.model.dbt import RELATION_TYPES, CatalogTable, DbtColumn, DbtNode, DbtProject, RunResults
from bridge.model.graph import Column, Dataset, DbtResult
from bridge.times import epoch_ms


def with_catalog(
    datasets: list[Dataset], owners: Mapping[str, DbtProject], catalog: Mapping[str, CatalogTable]
) -> list[Dataset]:
    """dbt entities with the columns the catalog lists for their node (or, without one, their documented ones)."""
    if not catalog:
        return datasets
    found = []
    for dataset in datasets:
        unique_id = dataset.dbt_unique_id or ""
        owner = owners.get(unique_id) if dataset.key.platform == "dbt" else None
        if owner is None:
            found.append(dataset)
            continue
        columns = node_columns(owner.nodes[unique_id], catalog.get(unique_id))
        found.append(replace(dataset, columns=columns) if columns else dataset)
    return found


def node_columns(node: DbtNode, table: CatalogTable | None) -> tuple[Column, ...]:
    if table is None:
        return tuple(_column(c.name, c.data_type or "", None, c) for c in node.columns)
    documented = {c.name.lower(): c for c in node.columns}
    return tuple(
        _column(column.name, column.data_type, column.comment, documented.get(column.name.lower()))
        for column in table.columns
    )


def _column(name: str, data_type: str, comment: str | None, documented: DbtColumn | None) -> Column:
    description = documented.description if documented else ""
    if comment and description and comment != description:
        text = f"dbt comment: {comment}\n\ndbt model description: {description}"
    else:
        text = comment or description
    return Column(name, data_type, text, documented.tags if documented else ())


def dbt_results(
    run_results: Iterable[RunResults], owners: Mapping[str, DbtProject], settings: JoinSettings
) -> tuple[DbtResult, ...]:
    """Every node's outcome in every invocation given, by invocation and node; the same invocation given
    twice (its run_results.json and its on-run-end export) counts once. A `dbt docs generate` run results file
    built nothing (its "successes" are compiled nodes) and is left out, as DataHub's dbt source leaves it out.
    A result's times are its `execute` step's where dbt timed it, as the dbt source takes them, else its
    whole span."""
    found: dict[tuple[str, str], DbtResult] = {}
    for results in sorted(run_results, key=lambda r: r.path):
        if results.command == "generate":
            continue
        for result in results.results:
            owner = owners.get(result.unique_id)
            node = owner.nodes[result.unique_id] if owner else None
            named = settings.for_project(owner) if owner else settings
            dataset = dbt_key(node, named) if node and node.resource_type in RELATION_TYPES else None
            key = (results.invocation_id or results.path, result.unique_id)
            found.setdefault(
                key,
                DbtResult(
                    invocation_id=results.invocation_id,
                    command=results.command,
                    unique_id=result.unique_id,
                    dataset=dataset,
                    status=result.status,
                    start_ms=epoch_ms(result.executed_at or result.started_at),
                    end_ms=epoch_ms(result.execute_completed_at or result.completed_at),
                    execution_time=result.execution_time,
                    failures=result.failures,
                    message=result.message,
                    read_from=results.path,
                ),
            )
    return tuple(found[key] for key in sorted(found))
