"""Driving the real command line (`python -m bridge` in a subprocess) and holding each run to the contract:
an exit code, at most one `error:` line on stderr and no traceback, and no planted secret in any stream or in
any file the run left in its folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUNDLED_MANIFEST = REPO / "dbt_project" / "artifacts" / "postgres" / "manifest.json"

# Secrets planted in configurations and answers; none may appear in anything a run prints or writes.
# The DB password holds every character that is reserved in a URL.
DB_PASSWORD = "Pg/s3cr#t?p@ss:w0rd"
API_PASSWORD = "api-pw-Q7x!9913"
API_TOKEN = "tok-5f1e0c2a9b7d4e11"
CLIENT_SECRET = "cl-secret-8d3a22f1"
GMS_TOKEN = "gms-token-77c1aa09e5"
PLANTED = (DB_PASSWORD, API_PASSWORD, API_TOKEN, CLIENT_SECRET, GMS_TOKEN)


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    files: dict[Path, bytes] = field(repr=False)

    @property
    def error_line(self) -> str:
        """The one `error:` line; fails when there is not exactly one, or stderr holds anything else but
        warnings (so no traceback, no library output)."""
        lines = self.stderr.splitlines()
        errors = [line for line in lines if line.startswith("error: ")]
        others = [line for line in lines if not line.startswith(("error: ", "warning: "))]
        assert len(errors) == 1 and not others, f"stderr of {self.args} is not one error line:\n{self.stderr}"
        assert "Traceback" not in self.stdout + self.stderr
        return errors[0]

    def texts(self) -> dict[str, bytes]:
        """Every stream and file of the run, by name."""
        found = {"stdout": self.stdout.encode(), "stderr": self.stderr.encode()}
        return found | {str(path): data for path, data in self.files.items()}


def unprivileged() -> list[str]:
    """A command prefix that runs without the power to read or write files regardless of their permissions
    (root's CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped; nothing to drop for any other user), so that a
    read-only folder or an unreadable file is what it is for the run."""
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []


def bridge(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 180, prefix: tuple[str, ...] = ()
) -> Run:
    """Run `python -m bridge ARGS` in `cwd`; every file under `cwd` afterwards is part of the run."""
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "bridge", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    files = {path: path.read_bytes() for path in sorted(cwd.rglob("*")) if path.is_file()}
    run = Run(tuple(args), done.returncode, done.stdout, done.stderr, files)
    for runs in _recorders:
        runs.append(run)
    assert_no_secret(run)
    return run


_recorders: list[list[Run]] = []


@contextmanager
def recording() -> Iterator[list[Run]]:
    """Every run of `bridge` while the block lasts."""
    runs: list[Run] = []
    _recorders.append(runs)
    try:
        yield runs
    finally:
        _recorders.remove(runs)


def assert_no_secret(run: Run, planted: tuple[str, ...] = PLANTED, inputs: tuple[Path, ...] = ()) -> None:
    """No planted secret (as written, or URL-encoded) in any stream or output file (inputs are skipped)."""
    from urllib.parse import quote

    forms = {form.encode() for secret in planted for form in (secret, quote(secret, safe=""))}
    leaks = [
        (name, form.decode())
        for name, data in run.texts().items()
        if not name.endswith((".yml", ".yaml")) and Path(name) not in inputs
        for form in forms
        if form in data
    ]
    assert leaks == [], f"{run.args} leaked {leaks}"
