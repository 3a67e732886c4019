"""Asset URIs -> dataset keys, meeting dbt's warehouse tables where they name the same relation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bridge.join.asset_uris import parse_asset_uri, scheme_of, without_credentials
from bridge.join.settings import JoinSettings
from bridge.model.graph import Dataset, DatasetKey
from bridge.model.report import Problem


@dataclass(frozen=True, slots=True)
class AssetResolver:
    """Resolves URIs to keys: a dbt relation's warehouse key when the URI names it (ignoring case and quotes)."""

    relations: Mapping[tuple[str, str], DatasetKey]
    warehouse_platforms: frozenset[str]
    settings: JoinSettings

    @classmethod
    def over(cls, warehouse_datasets: Iterable[Dataset], settings: JoinSettings) -> AssetResolver:
        relations = {(d.key.platform, d.key.name.lower()): d.key for d in warehouse_datasets}
        return cls(relations, frozenset(platform for platform, _ in relations), settings)

    def resolve(self, uri: str) -> tuple[DatasetKey, Problem | None]:
        uri = without_credentials(uri)
        parsed = parse_asset_uri(uri)
        if parsed is None:
            scheme = scheme_of(uri)
            message = f"scheme {scheme!r} is not mapped to a dataset platform; the asset is kept as it is"
            return DatasetKey("airflow", uri, None, self.settings.env), Problem(
                "unknown-asset-scheme", "warning", f"asset {uri}", message
            )
        known = self.relations.get((parsed.platform, parsed.name.replace('"', "").lower()))
        if known is not None:
            return known, None
        instance = self.settings.platform_instance if parsed.platform in self.warehouse_platforms else None
        name = parsed.name.lower() if self.settings.lowercase_urns and parsed.is_table else parsed.name
        return DatasetKey(parsed.platform, name, instance, self.settings.env), None
