"""dbt-lineage-bridge: join dbt manifests with Airflow (Cosmos) metadata into one DataHub lineage graph."""

from bridge.config import BridgeConfig, build_config
from bridge.config_yaml import load_config
from bridge.errors import ArtifactError, BridgeError, ConfigError
from bridge.model.dbt import DbtNode, DbtProject, Relation
from bridge.read.dbt.manifest import read_manifest
from bridge.read.dbt.run_results import read_catalog, read_run_results

__version__ = "0.1.0"

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
