"""Datasets that name the same table (a seed and the source that reads it, an asset and a dbt relation)."""

from __future__ import annotations

from dataclasses import replace

from bridge.model.graph import Dataset, DatasetKey


def _primary_first(dataset: Dataset) -> tuple[bool, bool, str]:
    """The table's producer (model/seed/snapshot) before a source that merely reads it; dbt before assets."""
    return (
        dataset.dbt_unique_id is None,
        (dataset.dbt_unique_id or "").startswith("source."),
        dataset.dbt_unique_id or "",
    )


def merge_datasets(datasets: list[Dataset]) -> list[Dataset]:
    by_key: dict[DatasetKey, list[Dataset]] = {}
    for dataset in datasets:
        by_key.setdefault(dataset.key, []).append(dataset)
    return [_merged(sorted(group, key=_primary_first)) for _, group in sorted(by_key.items())]


def _merged(group: list[Dataset]) -> Dataset:
    first = group[0]
    if len(group) == 1:
        return first
    return replace(
        first,
        upstreams=tuple(sorted({u for d in group for u in d.upstreams})),
        owners=tuple(sorted({o for d in group for o in d.owners})),
        tags=tuple(sorted({t for d in group for t in d.tags})),
        description=first.description or next((d.description for d in group if d.description), ""),
    )
