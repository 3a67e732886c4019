"""`python -m bridge demo`: what the bundled example needs, and what the demo says at the end.

The demo is the repository's bundled dbt project (its PostgreSQL artifacts, made by real dbt) joined with the
Airflow 3.3 metadata DB that real Airflow left after running the Cosmos DAGs of `tests/fixtures/airflow/`
(the SQLite form, kept gzipped). Its settings are `demo/bridge.yml`; the paths are made absolute here so the
demo runs from any folder of the clone.
"""

from __future__ import annotations

import gzip
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import bridge
from bridge.errors import ConfigError
from bridge.model.graph import LineageGraph
from bridge.outputs import write_output
from bridge.run_report import plural

_ARTIFACTS = Path("dbt_project/artifacts/postgres")


@dataclass(frozen=True, slots=True)
class DemoFiles:
    root: Path
    config: Path
    manifest: Path
    run_results: Path
    airflow_dump: Path  # gzipped SQLite file

    @property
    def airflow_db(self) -> Path:
        return self.root / ".cache" / "demo" / "airflow.db"


def demo_files(root: Path | None = None) -> DemoFiles:
    """The bundled files, from the clone the package was installed from (an editable install)."""
    root = root or Path(bridge.__file__).resolve().parent.parent
    files = DemoFiles(
        root=root,
        config=root / "demo" / "bridge.yml",
        manifest=root / _ARTIFACTS / "manifest.json",
        run_results=root / _ARTIFACTS / "run_results.json",
        airflow_dump=root / "tests" / "fixtures" / "airflow" / "dumps" / "af33_sqlite.db.gz",
    )
    missing = [path for path in (files.config, files.manifest, files.run_results, files.airflow_dump)
               if not path.is_file()]  # fmt: skip
    if missing:
        raise ConfigError(
            f"the demo needs {missing[0]}, which is not there: it runs from a clone of the repository (its bundled "
            "dbt project and Airflow database are not part of the package). Clone it and run `make demo` there."
        )
    return files


def unpacked_airflow_db(files: DemoFiles) -> Path:
    """The Airflow DB, unpacked beside the clone's caches when missing or older than the bundled dump."""
    target = files.airflow_db
    if not target.exists() or target.stat().st_mtime < files.airflow_dump.stat().st_mtime:
        target.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(files.airflow_dump) as packed:
            write_output(target, packed.read(), "demo Airflow DB")
    return target


def demo_overrides(files: DemoFiles, out: Path) -> dict[str, object]:
    """The settings laid over `demo/bridge.yml`: its inputs by absolute path, its outputs in `out`."""
    return {
        "dbt.manifests": [str(files.manifest)],
        "dbt.run_results": [str(files.run_results)],
        "airflow_db.url": f"sqlite:///{unpacked_airflow_db(files)}",
        "sink.path": str(out / "datahub.db"),
    }


def demo_summary(graph: LineageGraph, out: Path) -> str:
    """A few lines on what was joined (and what was not), and where it went."""
    subtypes = Counter(d.subtype for d in graph.datasets if d.key.platform == "dbt")
    dbt_nodes = ", ".join(plural(n, subtype.lower()) for subtype, n in sorted(subtypes.items()))
    tables = sum(1 for d in graph.datasets if d.key.platform != "dbt")
    cosmos = sum(1 for job in graph.jobs if job.cosmos is not None)
    # a sibling pair once, from its dbt side
    links = sum(len(d.upstreams) + (d.sibling is not None and d.key.platform == "dbt") for d in graph.datasets)
    links += sum(len(job.inputs) + len(job.outputs) for job in graph.jobs)
    unmatched = [p.location for p in graph.problems if p.code == "unmatched-cosmos-task"]
    domains = ", ".join(sorted(d.name for d in graph.domains)) or "none"
    lines = [
        "",
        "The demo joined:",
        f"  {plural(len(graph.flows), 'DAG')} with {plural(len(graph.jobs), 'task')} ({cosmos} of them Cosmos tasks)",
        f"  dbt: {dbt_nodes or 'no nodes'}",
        f"  warehouse tables and assets: {tables}; lineage links: {links} (upstreams, dbt node ═ table, task reads "
        f"and writes); runs: {len(graph.runs)}",
        f"  domains: {domains}",
        f"  unmatched Cosmos tasks: {', '.join(unmatched) if unmatched else 'none'}",
        f"Written to {_shown(out)}: datahub.db (DataHub Lite), lineage.json (the joined graph), report.json, "
        "lineage.html (the page).",
        "",
    ]
    return "\n".join(lines)


def open_command(page: Path) -> str:
    """The one command that opens the page in the default browser, on any system."""
    python = "python" if os.environ.get("VIRTUAL_ENV") else Path(sys.executable).name
    return f"{python} -m webbrowser -t {page.as_uri()}"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
