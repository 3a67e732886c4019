"""Outputs are whole or not there: a sync killed at any moment leaves every previous output file as it was
(byte for byte, valid JSON), or the new one whole; never half of one. Two syncs on one DataHub Lite file do
not interleave: the second waits for the first, or stops with one line."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from tests.cli import BUNDLED_MANIFEST, bridge
from tests.conftest import CORPUS

LARGE_MANIFEST = CORPUS / "mattermost-analytics" / "manifest.parse.json.gz"  # 6.4 MB: a sync of about 1.5 s
OUTPUTS = ("out/mcps.json", "graph.json", "report.json")
KILLS = 24


def sync_args(manifest: Path) -> list[str]:
    return [sys.executable, "-m", "bridge", "sync", "--manifest", str(manifest), "--sink", "file:out/mcps.json",
            "--graph", "graph.json", "--report", "report.json", "--fail-on", "none"]  # fmt: skip


def outputs(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


def test_a_sync_killed_at_any_point_leaves_every_output_whole(tmp_path: Path) -> None:
    before, after, work = tmp_path / "before", tmp_path / "after", tmp_path / "work"
    durations = []
    for folder, manifest in ((before, BUNDLED_MANIFEST), (after, LARGE_MANIFEST), (work, BUNDLED_MANIFEST)):
        folder.mkdir()
        started = time.monotonic()
        subprocess.run(sync_args(manifest), cwd=folder, check=True, capture_output=True, timeout=120)
        durations.append(time.monotonic() - started)
    old, new = outputs(before), outputs(after)
    assert all(old[name] != new[name] for name in OUTPUTS) and outputs(work) == old
    duration = durations[1]  # of a sync of the large manifest: kills land anywhere in it
    rng = random.Random(15)
    states: list[tuple[str, ...]] = []
    mid_write = 0  # kills that left a temporary file behind: they landed while an output was being written
    for _ in range(KILLS):
        process = subprocess.Popen(sync_args(LARGE_MANIFEST), cwd=work, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        # Before 0.3 s the process is still importing; the outputs are written in the second half of a sync.
        time.sleep(rng.uniform(0.3, duration) if len(states) % 2 else rng.uniform(duration / 2, duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        found = outputs(work)
        state = tuple("old" if found[n] == old[n] else "new" if found[n] == new[n] else "BROKEN" for n in OUTPUTS)
        assert "BROKEN" not in state, f"an output is neither the previous nor the new file: {state}"
        for data in found.values():
            orjson.loads(data)
        states.append(state)
        mid_write += any(work.rglob(".*.tmp"))
        for name in OUTPUTS:  # back to the previous outputs, so that every kill can show a difference
            (work / name).write_bytes(old[name])
    assert mid_write >= 3, f"only {mid_write} of {KILLS} kills landed while an output was being written"
    assert any("new" in state for state in states), "no kill landed after an output was complete"
    subprocess.run(sync_args(LARGE_MANIFEST), cwd=work, check=True, capture_output=True, timeout=120)
    assert outputs(work) == new
    assert sorted(p.name for p in work.rglob(".*.tmp")) == [], "killed runs' temporary files were not cleaned up"


def hold_lite_lock(folder: Path) -> int:
    """Lock `folder/lite/datahub.db` as a running sync does; the descriptor to close to release it."""
    import fcntl

    (folder / "lite").mkdir(exist_ok=True)
    holder = os.open(folder / "lite" / "datahub.db.lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    return holder


def test_a_second_sync_on_one_lite_file_waits_for_the_first(tmp_path: Path) -> None:
    holder = hold_lite_lock(tmp_path)
    args = [sys.executable, "-m", "bridge", "sync", "--manifest", str(BUNDLED_MANIFEST), "--sink",
            "datahub-lite:lite/datahub.db"]  # fmt: skip
    waiting = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(4)  # a sync of the bundled project takes about 2 s: this one is waiting for the lock
        assert waiting.poll() is None, waiting.communicate()
        assert not (tmp_path / "lite" / "datahub.db").exists()
    finally:
        os.close(holder)
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert re.search(r"^emitted: [1-9][0-9]* aspects", out, re.M) and (tmp_path / "lite" / "datahub.db").exists()


def test_a_sync_that_cannot_get_the_lite_file_in_time_stops_with_one_line(tmp_path: Path) -> None:
    holder = hold_lite_lock(tmp_path)
    try:
        (tmp_path / "bridge.yml").write_text("sink: {type: datahub-lite, path: lite/datahub.db, timeout: 0.5}\n")
        run = bridge("sync", "--manifest", str(BUNDLED_MANIFEST), "--config", "bridge.yml", cwd=tmp_path)
    finally:
        os.close(holder)
    assert run.code == 3
    assert "another sync is using it" in run.error_line and "waited 0.5 s" in run.error_line
    assert not (tmp_path / "lite" / "datahub.db").exists()
