"""Everything a sync reads from dbt, from wherever the configuration says: manifests, exports of the dbt
package (files, standard input, or dbt run for a project), run results, source freshness and catalogs."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from bridge.config import DbtConfig
from bridge.errors import ConfigError
from bridge.model.dbt import CatalogTable, DbtInputs, DbtProject, RunResults
from bridge.paths import expand_paths
from bridge.read.dbt.export import DbtExport, parse_exports, read_exports

NOTHING_GIVEN = (
    "no dbt project given: pass --manifest PATH, --dbt-export FILE (- for standard input) or --dbt-project-dir DIR "
    "(or set dbt.manifests, dbt.exports or dbt.project_dir in --config)."
)


def read_dbt(config: DbtConfig, stdin: BinaryIO | None = None) -> DbtInputs:
    if not config.given:
        raise ConfigError(NOTHING_GIVEN)
    columns = bool(config.catalogs)  # documented columns only matter where a catalog's columns meet them
    exports = [e for source in config.exports for e in read_exports(source, stdin, columns)]
    if config.project_dir:
        from bridge.read.dbt.runner import export_with_dbt

        printed = export_with_dbt(config.project_dir, config.target, config.profiles_dir)
        exports += parse_exports(f"dbt run-operation bridge_export in {config.project_dir}", printed, columns)
    projects = [*read_projects(config.manifests, columns), *_latest_per_project(exports)]
    run_results = [r for e in exports if (r := e.run_results) is not None]
    return DbtInputs(
        projects=tuple(projects),
        run_results=(*_read_run_results(config.run_results), *run_results, *_read_sources(config.sources)),
        catalog=_read_catalogs(config.catalogs),
    )


def read_projects(patterns: list[str], columns: bool = False) -> list[DbtProject]:
    """The manifests named by paths and globs; a file named twice (a path and a glob) is read once."""
    from bridge.read.dbt.manifest import read_manifest

    return [read_manifest(path, columns) for path in _unique_paths(patterns, "manifest")]


def _latest_per_project(exports: list[DbtExport]) -> list[DbtProject]:
    """One project per name: several documents of one project (a log holding several runs) describe it as
    the last one printed does."""
    latest = {export.project.project_name: export.project for export in exports}
    return list(latest.values())


def _read_run_results(patterns: list[str]) -> list[RunResults]:
    from bridge.read.dbt.run_results import read_run_results

    return [read_run_results(path) for path in _unique_paths(patterns, "run results")]


def _read_sources(patterns: list[str]) -> list[RunResults]:
    """`dbt source freshness` output (sources.json): its checks are one invocation's results."""
    from bridge.read.dbt.freshness import read_sources

    return [read_sources(path) for path in _unique_paths(patterns, "sources.json")]


def _read_catalogs(patterns: list[str]) -> dict[str, CatalogTable]:
    from bridge.read.dbt.run_results import read_catalog

    tables: dict[str, CatalogTable] = {}
    for path in _unique_paths(patterns, "catalog"):
        for unique_id, table in read_catalog(path).items():
            tables.setdefault(unique_id, table)
    return tables


def _unique_paths(patterns: list[str], what: str) -> list[Path]:
    paths, seen = [], set()
    for path in expand_paths(patterns, what):
        if path.resolve() not in seen:
            seen.add(path.resolve())
            paths.append(path)
    return paths
