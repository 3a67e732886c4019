"""dbt-lineage-bridge: join dbt manifests with Airflow (Cosmos) metadata into one DataHub lineage graph.

The public names below load their modules when first used, so that `import bridge.<module>` (the command
line, the Airflow operator, the DataHub source) costs only what that module needs."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.config import BridgeConfig, build_config
    from bridge.config_yaml import load_config
    from bridge.errors import ArtifactError, BridgeError, ConfigError
    from bridge.model.dbt import DbtNode, DbtProject, Relation
    from bridge.read.dbt.manifest import read_manifest
    from bridge.read.dbt.run_results import read_catalog, read_run_results

__version__ = "0.1.0"

_HOMES = {
    "ArtifactError": "bridge.errors",
    "BridgeConfig": "bridge.config",
    "BridgeError": "bridge.errors",
    "ConfigError": "bridge.errors",
    "DbtNode": "bridge.model.dbt",
    "DbtProject": "bridge.model.dbt",
    "Relation": "bridge.model.dbt",
    "build_config": "bridge.config",
    "load_config": "bridge.config_yaml",
    "read_catalog": "bridge.read.dbt.run_results",
    "read_manifest": "bridge.read.dbt.manifest",
    "read_run_results": "bridge.read.dbt.run_results",
}

__all__ = [
    "ArtifactError",
    "BridgeConfig",
    "BridgeError",
    "ConfigError",
    "DbtNode",
    "DbtProject",
    "Relation",
    "__version__",
    "build_config",
    "load_config",
    "read_catalog",
    "read_manifest",
    "read_run_results",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'bridge' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value
