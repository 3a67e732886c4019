"""What each command loads, held as golden lists (tests/golden/imports/): the bridge's own modules and the
dependencies it declares, as `python -X importtime` reports them for a real run. A command that starts loading
more (a driver it does not use, DataHub's classes in `check`, dbt anywhere but `--dbt-project-dir`) shows as
a failing diff; `pytest --update-golden tests/integration/cli/test_imports.py` refreshes the lists after a
deliberate change, for review."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.airflow_dumps import sqlite_dump
from tests.cli import BUNDLED_MANIFEST
from tests.conftest import REPO, assert_golden

GOLDEN = REPO / "tests" / "golden" / "imports"
# The import names of pyproject's dependencies and extras: what the bridge chooses to load (their own
# dependencies follow from them and change with their releases, so they are not held here).
DEPENDENCIES = {"airflow", "click", "confluent_kafka", "datahub", "dbt", "jinja2", "msgspec", "orjson", "psycopg2",
                "pydantic", "requests", "yaml"}  # fmt: skip
# name -> (the command's arguments besides the manifest, whether it reads an Airflow DB)
COMMANDS = {
    "check_sqlite": (["check"], True),
    "plan_sqlite": (["plan"], True),
    "sync_sqlite_file": (["sync", "--sink", "file:out.json"], True),
    "sync_file": (["sync", "--sink", "file:out.json"], False),  # dbt alone, as bench/dbt_corpus.py times it
}


def loaded(args: list[str], cwd: Path) -> tuple[list[str], list[str]]:
    """(bridge modules, the project's direct dependencies) a run of `python -m bridge ARGS` imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "bridge", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    names.discard("imported package")  # the header line
    ours = sorted(n for n in names if n == "bridge" or n.startswith("bridge."))
    tops = {n.split(".")[0] for n in names}
    return ours, sorted(tops & DEPENDENCIES)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_loads_what_it_loads(command: str, tmp_path: Path, update_golden: bool) -> None:
    command_args, reads_airflow = COMMANDS[command]
    args = [*command_args, "--manifest", str(BUNDLED_MANIFEST)]
    if reads_airflow:
        args += ["--airflow-db", f"sqlite:///{sqlite_dump(tmp_path)}"]
    ours, others = loaded(args, tmp_path)
    text = "# bridge modules\n" + "\n".join(ours) + "\n\n# dependencies\n" + "\n".join(others) + "\n"
    assert_golden(GOLDEN / f"{command}.txt", text, update_golden)
    assert "psycopg2" not in others  # SQLite needs no PostgreSQL driver
    assert "dbt" not in others
    if command == "check_sqlite":
        assert "datahub" not in others
    if not reads_airflow:
        assert not [name for name in ours if name.startswith(("bridge.read.airflow", "bridge.emit.runs"))]
        assert "yaml" not in others  # no configuration file given
