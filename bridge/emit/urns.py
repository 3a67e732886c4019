"""DataHub URNs equal to those DataHub's own dbt source and Airflow plugin make, so we complete, not copy.

Facts taken from acryl-datahub 1.7 (`ingestion/source/dbt`): a dbt node's dataset name is
`database.schema.<alias or name>` with quotes removed, lower-cased by default (`convert_urns_to_lowercase`);
sources are named by their logical `name` there. The warehouse dataset, as the warehouse's own connector
names it, uses the physical identifier (a source's `identifier`), which is what we emit on that side.
"""

from __future__ import annotations

import functools

from datahub.emitter.mce_builder import make_dataset_urn_with_platform_instance

from bridge.model.graph import DatasetKey


@functools.lru_cache(maxsize=65536)
def urn_of(key: DatasetKey) -> str:
    """The DataHub dataset URN of a graph dataset key (its name is already normalised by the join)."""
    return make_dataset_urn_with_platform_instance(
        platform=key.platform, name=key.name, platform_instance=key.platform_instance, env=key.env
    )


# Entities the bridge is the source of: it writes their descriptive aspects and soft-deletes them when they
# disappear. Warehouse tables and other platforms' datasets belong to their own connectors (see datasets.py).
OWNED_DATASET_PLATFORMS = frozenset({"dbt", "airflow"})


def is_owned_dataset_platform(platform: str) -> bool:
    return platform in OWNED_DATASET_PLATFORMS
