"""`--dbt-project-dir`: the export printed by dbt's own programmatic runner, in this process, no shell.

The only module that imports dbt (about 3 s). dbt writes its target/ and logs/ into a temporary folder, so
the project's own target/ (its manifest, its partial-parse state) is left as it was. dbt's failures come
back as one `DbtInvocationError` naming the project and what to do.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from pathlib import Path

from bridge.errors import DbtInvocationError
from bridge.redact import Redactor

_HINTS = {
    "UndefinedMacroError": "install the dbt_lineage_bridge package: add it to packages.yml (macros/README.md), "
    "then run `dbt deps`",
    "UninstalledPackagesFoundError": "run `dbt deps` in the project",
    "DbtProfileError": "pass --dbt-profiles-dir (the folder holding profiles.yml) or set DBT_PROFILES_DIR",
}
_DEFAULT_HINT = "fix what dbt names, so that `dbt run-operation bridge_export` succeeds there"


def export_with_dbt(project_dir: str, target: str | None = None, profiles_dir: str | None = None) -> bytes:
    """What `dbt run-operation bridge_export` prints for the project under `target` (dbt's default if None)."""
    if not Path(project_dir, "dbt_project.yml").is_file():
        raise DbtInvocationError(project_dir, "holds no dbt_project.yml", "pass the folder of the dbt project")
    try:
        from dbt.cli.main import dbtRunner
    except ImportError:
        raise DbtInvocationError(
            project_dir,
            "needs dbt, which is not installed beside the bridge",
            "install the dbt extra and your project's adapter: pip install 'dbt-lineage-bridge[dbt]' dbt-snowflake "
            "(or dbt-postgres, ...); or run `dbt run-operation bridge_export` yourself and pass --dbt-export",
        ) from None

    printed = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="bridge-dbt-") as work, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        args = ["--quiet", "--no-send-anonymous-usage-stats", "--no-use-colors", "run-operation", "bridge_export"]
        args += ["--project-dir", project_dir, "--target-path", f"{work}/target", "--log-path", f"{work}/logs"]
        args += ["--target", target] if target else []
        args += ["--profiles-dir", profiles_dir] if profiles_dir else []
        with contextlib.redirect_stdout(printed):
            result = dbtRunner().invoke(args)
    if not result.success:
        raise DbtInvocationError(project_dir, _what_failed(result.exception, printed.getvalue()), _hint(result))
    return printed.getvalue().encode()


def _what_failed(exception: BaseException | None, printed: str) -> str:
    """dbt's message on one line: `Runtime Error\n  Could not find ...` -> `Runtime Error: Could not find ...`."""
    text = str(exception) if exception is not None else _error_lines(printed)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith("Error"):
        lines[0] += ":"
    # dbt quotes profile values in its errors (`'S3cret' is not of type 'integer'`): credential shapes go
    return "dbt failed: " + Redactor()(" ".join(lines))[:500]


def _error_lines(printed: str) -> str:
    lines = [line for line in printed.splitlines() if "error" in line.lower()]
    return "\n".join(lines) or "no message (run the same dbt command to see its log)"


def _hint(result: object) -> str:
    exception = getattr(result, "exception", None)
    name = type(exception).__name__ if exception is not None else ""
    if name == "DbtProjectError" and "profile" in str(exception).lower():
        name = "DbtProfileError"
    return _HINTS.get(name, _DEFAULT_HINT)
