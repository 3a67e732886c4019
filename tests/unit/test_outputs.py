"""Output paths checked before a sync reads anything; files written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.outputs import atomic_output, check_output_path, write_output


def test_paths_that_can_be_written_pass(tmp_path: Path) -> None:
    check_output_path(tmp_path / "report.json", "report")
    check_output_path(tmp_path / "new" / "deeper" / "graph.json", "graph")  # folders are made when writing
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # checking leaves nothing behind


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda tmp: tmp / "folder", "the report path {tmp}/folder is a folder"),
        (lambda tmp: tmp / "file" / "x.json", "{tmp}/file is a file, not a folder"),
        (lambda tmp: Path("/proc/self/bridge.json"), "/proc/self does not accept new files"),
    ],
)
def test_paths_that_cannot_be_written_are_named(make: object, says: str, tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=says.format(tmp=tmp_path)):
        check_output_path(make(tmp_path), "report")  # type: ignore[operator]


def test_a_failure_while_writing_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_output(target, b"previous", "graph")
    with pytest.raises(RuntimeError), atomic_output(target, "graph") as out:
        out.write(b"half of the ne")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"previous" and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_temporaries_of_dead_runs_are_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    dead, alive = tmp_path / ".out.json.999999999.tmp", tmp_path / f".out.json.{os.getppid()}.tmp"
    dead.write_bytes(b"half")
    alive.write_bytes(b"being written")
    write_output(tmp_path / "out.json", b"whole", "graph")
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "out.json"]


def test_a_symlink_is_followed_and_a_device_written_in_place(tmp_path: Path) -> None:
    real = tmp_path / "reports" / "latest.json"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "report.json"
    link.symlink_to(real)
    write_output(link, b"new", "report")
    assert link.is_symlink() and real.read_bytes() == b"new"
    write_output(Path("/dev/null"), b"discarded", "report")
    assert Path("/dev/null").is_char_device()


def test_an_output_may_not_be_an_input_or_another_output(tmp_path: Path) -> None:
    from bridge.outputs import check_outputs

    manifest = tmp_path / "manifest.json"
    manifest.write_text("{}")
    with pytest.raises(ConfigError, match="is an input of this sync"):
        check_outputs([(tmp_path / "x" / ".." / "manifest.json", "graph")], [manifest])
    with pytest.raises(ConfigError, match="the report and the graph would both be written to"):
        check_outputs([(tmp_path / "a.json", "report"), (tmp_path / "a.json", "graph")], [manifest])


def test_junit_holds_no_character_xml_cannot_carry() -> None:
    import xml.etree.ElementTree as ET

    from bridge.ci_formats import report_as_junit
    from bridge.model.report import Problem, RunReport

    problem = Problem("model-without-domain", "info", "model model.x.a\x1bb", "has no domain\x00")
    parsed = ET.fromstring(report_as_junit(RunReport({}, {}, (problem,)), frozenset({"info"})))
    assert parsed.get("failures") == "1" and "\ufffd" in ET.tostring(parsed, encoding="unicode")


def test_a_device_is_a_writable_output() -> None:
    check_output_path(Path("/dev/null"), "report")
