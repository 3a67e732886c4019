"""The command line's last guard: an exception nobody planned for is still one line, an exit code, no secret."""

from __future__ import annotations

import pytest

from bridge.cli import CliState, run
from tests.cli import BUNDLED_MANIFEST


def test_an_internal_error_is_one_line_with_where_and_no_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(patterns: list[str]) -> None:
        raise KeyError("postgresql://reader:hunter2-pw@db/airflow")

    monkeypatch.setattr("bridge.sync.read_projects", broken)
    code = run(["plan", "--manifest", str(BUNDLED_MANIFEST)], CliState())
    err = capsys.readouterr().err
    assert code == 3 and err.count("\n") == 1
    assert err.startswith("error: internal error (KeyError at bridge/cli.py:")
    assert "hunter2" not in err and "This is a bug in the bridge" in err


def test_an_interrupt_is_exit_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(patterns: list[str]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("bridge.sync.read_projects", interrupted)
    assert run(["plan", "--manifest", str(BUNDLED_MANIFEST)], CliState()) == 130
    assert capsys.readouterr().err.strip() == "error: interrupted"  # after the new line click writes first
