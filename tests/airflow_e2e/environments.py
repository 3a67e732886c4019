"""Real Airflow + Cosmos releases, each in its own cached virtualenv with this checkout's bridge installed
(`.[airflow]`, editable), created when missing or when what it should hold changed.

`.cache/airflow-e2e/<name>/` holds the venv; `installed.txt` in it records the requirements and the hash of
pyproject.toml it was made with. A lock file makes a second pytest worker wait instead of building the same
venv twice. dbt itself is not installed there: Cosmos runs the project's dbt (.venv/bin/dbt) as a subprocess,
as teams keep dbt in its own environment.
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "airflow-e2e"


@dataclass(frozen=True)
class Release:
    name: str
    requirements: tuple[str, ...]

    @property
    def venv(self) -> Path:
        return CACHE / self.name

    @property
    def airflow(self) -> Path:
        return self.venv / "bin" / "airflow"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


# The newest Airflow 3 with the newest Cosmos, and the last Airflow 2 with a Cosmos that supports it.
RELEASES = {
    release.name: release
    for release in (
        Release("af33", ("apache-airflow==3.3.2", "astronomer-cosmos==1.15.1")),
        Release("af211", ("apache-airflow==2.11.2", "astronomer-cosmos==1.15.1")),
        # Airflow 3.1: a Task SDK without breadcrumbs (states only), and an older Cosmos.
        Release("af31", ("apache-airflow==3.1.3", "astronomer-cosmos==1.11.1")),
    )
}


def wanted(release: Release) -> str:
    pyproject = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    return "\n".join([*release.requirements, f"-e {REPO}[airflow]", f"pyproject {pyproject}"]) + "\n"


def ensure_environment(release: Release) -> Release:
    """The release's venv, installed first if it is missing or stale (80 s to 5 minutes from the registries)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    marker = release.venv / "installed.txt"
    with (CACHE / f"{release.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == wanted(release):
            return release
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(release.venv)], check=True)
        pip = [str(release.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        done = subprocess.run(
            [*pip, *release.requirements, "-e", f"{REPO}[airflow]"], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"installing {release.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        marker.write_text(wanted(release))
    return release
