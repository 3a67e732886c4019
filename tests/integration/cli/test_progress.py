"""Progress on a terminal, silence when piped or in CI, `--quiet` and `--verbose`, and the summary line: the real
command line under a real pseudo-terminal and under pipes."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.airflow_dumps import sqlite_dump
from tests.cli import BUNDLED_MANIFEST, bridge

STEPS = ("reading dbt: ", "reading Airflow: ", "joining: ", "emitting to file: ")


@pytest.fixture
def sync_args(tmp_path: Path) -> list[str]:
    db = sqlite_dump(tmp_path)
    return ["sync", "--manifest", str(BUNDLED_MANIFEST), "--airflow-db", f"sqlite:///{db}",
            "--sink", f"file:{tmp_path / 'mcps.json'}"]  # fmt: skip


def under_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run `python -m bridge ARGS` with a pseudo-terminal as stdin, stdout and stderr; everything it wrote."""
    main, child = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "bridge", *args], cwd=cwd, env=env,
                               stdin=child, stdout=child, stderr=child, close_fds=True)  # fmt: skip
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return process.wait(timeout=120), b"".join(chunks).decode()


def terminal_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    return {**env, "TERM": "xterm-256color", **extra}


def test_a_sync_on_a_terminal_shows_each_step_with_counts_and_rate(sync_args: list[str], tmp_path: Path) -> None:
    code, seen = under_terminal(sync_args, tmp_path, terminal_env())
    assert code == 0, seen
    for step in STEPS:
        assert step in seen, f"no {step!r} on the terminal:\n{seen}"
    assert "6 DAGs, 68 tasks" in seen and "records in" in seen and "/s)" in seen
    assert "\r\x1b[2K" in seen, "the live line is redrawn in place"
    assert seen.rstrip().splitlines()[-1].startswith("sync ok: 6 DAGs, 68 tasks, 31 dbt nodes, ")


def test_piped_there_is_no_progress_only_the_report_and_the_summary(sync_args: list[str], tmp_path: Path) -> None:
    run = bridge(*sync_args, cwd=tmp_path)
    assert run.code == 0
    assert run.stderr == "" and "\r" not in run.stdout and "\x1b" not in run.stdout
    assert not any(step in run.stdout for step in STEPS)
    assert re.fullmatch(r"sync ok: 6 DAGs, 68 tasks, 31 dbt nodes, [\d,]+ aspects delivered, 4 warnings in [\d.]+ s",
                        run.stdout.splitlines()[-1])  # fmt: skip


def test_in_ci_a_terminal_gets_no_progress(sync_args: list[str], tmp_path: Path) -> None:
    code, seen = under_terminal(sync_args, tmp_path, terminal_env(CI="true"))
    assert code == 0 and not any(step in seen for step in STEPS) and "\x1b" not in seen


def test_quiet_leaves_the_summary_line_alone(sync_args: list[str], tmp_path: Path) -> None:
    code, seen = under_terminal([*sync_args, "--quiet"], tmp_path, terminal_env())
    assert code == 0
    assert seen.strip().splitlines() == [seen.strip()] and seen.startswith("sync ok: ")
    failing = bridge(*sync_args, "-q", "--fail-on", "warning", cwd=tmp_path)
    assert failing.code == 1 and failing.stdout.startswith("sync FAILED: ") and len(failing.stdout.splitlines()) == 1


def test_verbose_keeps_the_finished_steps_in_a_log(sync_args: list[str], tmp_path: Path) -> None:
    run = bridge(*sync_args, "--verbose", cwd=tmp_path)
    assert run.code == 0
    lines = run.stderr.splitlines()
    assert [line.split(": ", 1)[0] + ": " for line in lines] == list(STEPS)
    assert "\r" not in run.stderr and "\x1b" not in run.stderr


@pytest.mark.parametrize("command", ["plan", "check", "demo"])
def test_every_command_takes_quiet_and_verbose_and_ends_with_a_summary(command: str, tmp_path: Path) -> None:
    args = [command] if command == "demo" else [command, "--manifest", str(BUNDLED_MANIFEST)]
    args += ["--out", str(tmp_path / "out")] if command == "demo" else []
    quiet = bridge(*args, "-q", cwd=tmp_path)
    assert quiet.code == 0 and quiet.stderr == ""
    assert quiet.stdout.splitlines()[-1].startswith(f"{command} ok: ")
    verbose = bridge(*args, "-v", cwd=tmp_path)
    assert verbose.code == 0 and "reading dbt: 90 manifest nodes in 1 project" in verbose.stderr
    if command == "check":
        assert len(quiet.stdout.splitlines()) == 1
    if command == "demo":  # the page and how to open it, then the summary
        said = [line.split(":")[0] for line in quiet.stdout.splitlines()]
        assert said == ["The lineage page", "Open it with", "demo ok"]
    if command == "plan":  # the plan is plan's output, kept
        assert "model    dim_country" in quiet.stdout
    contradiction = bridge(*args, "-q", "-v", cwd=tmp_path)
    assert contradiction.code == 2 and "--quiet and --verbose contradict" in contradiction.error_line


def test_plan_as_json_keeps_stdout_a_json_document(tmp_path: Path) -> None:
    import json

    run = bridge("plan", "--manifest", str(BUNDLED_MANIFEST), "--format", "json", cwd=tmp_path)
    assert run.code == 0 and json.loads(run.stdout)["projects"]
    assert run.stderr.startswith("plan ok: 0 DAGs, 0 tasks, 31 dbt nodes")


def test_a_step_that_fails_says_so_on_the_terminal(tmp_path: Path) -> None:
    args = ["sync", "--manifest", str(BUNDLED_MANIFEST), "--airflow-db", f"sqlite:///{tmp_path / 'missing.db'}",
            "--sink", f"file:{tmp_path / 'mcps.json'}"]  # fmt: skip
    code, seen = under_terminal(args, tmp_path, terminal_env())
    assert code == 2
    assert "\r\x1b[2Kreading Airflow: failed (" in seen and "\nsync FAILED: " in seen.replace("\r\n", "\n")
