"""The command line: `python -m bridge plan|sync|check`.

Exit codes, on every command: 0 done; 1 problems in the run report match `--fail-on`; 2 bad input or
configuration; 3 a source or sink failed after its retries (or an internal error). No input ends in a
traceback: every error leaves as one line on stderr, with every secret of the configuration (and anything
shaped like a credential) removed. A sync that got past its configuration writes its `--report` on every
exit path, saying how far it got.
"""

from __future__ import annotations

import glob
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from bridge.config import BridgeConfig, build_config
from bridge.config_legacy import map_legacy_keys, mapping_section
from bridge.config_yaml import load_config_data
from bridge.errors import EXIT_BAD_INPUT, EXIT_FAILED, BridgeError, ConfigError
from bridge.outputs import check_outputs, write_output
from bridge.redact import Redactor

if TYPE_CHECKING:
    from bridge.sync import SyncResult

EXIT_OK, EXIT_PROBLEMS = 0, 1
EXIT_INTERRUPTED = 130
DROP = object()  # an override that removes a field of the file's section (`--sink datahub-lite`: its default path)


@dataclass
class CliState:
    """What `main` needs to know of the command that ran: the redactor for the configuration's secrets."""

    redact: Redactor = field(default_factory=Redactor)

    def configured(self, config: BridgeConfig) -> BridgeConfig:
        self.redact = Redactor(config.secrets())
        return config


def _config(config_path: str | None, overrides: Mapping[str, object]) -> BridgeConfig:
    """The configuration file (if any) with the flags that were given laid over single fields of it: the
    file's legacy keys are mapped first, so a flag always wins over the key it replaces."""
    source = f"{config_path} with the command-line flags" if config_path else "command line"
    data: dict[str, Any] = load_config_data(config_path, os.environ) if config_path else {}
    try:
        data = map_legacy_keys(data)
        for key, value in overrides.items():
            if value is not None and value != [] and value != ():
                _lay_over(data, key, value)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}.") from None
    return build_config(_token_from_environment(data, os.environ), source)


def _token_from_environment(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """A DataHub REST sink without credentials takes `DATAHUB_GMS_TOKEN`, as DataHub's own CLI does."""
    sink = data.get("sink")
    token = environ.get("DATAHUB_GMS_TOKEN")
    if not token or not isinstance(sink, dict) or sink.get("type") != "datahub-rest":
        return data
    if any(sink.get(key) for key in ("token", "oidc_token_url", "oidc_client_id", "oidc_client_secret")):
        return data
    return {**data, "sink": {**sink, "token": token}}


def _lay_over(data: dict[str, Any], key: str, value: object) -> None:
    """Set `section.field` (or a top-level key) in the settings; `DROP` removes the field."""
    section, _, name = key.partition(".")
    if not name:
        data[key] = value
        return
    fields = {k: v for k, v in mapping_section(data.get(section, {}), section).items() if k != name}
    data[section] = fields if value is DROP else {**fields, name: value}


def _show_warnings(config: BridgeConfig) -> None:
    for warning in config.warnings:
        click.echo(f"warning: {warning}", err=True)


@click.group()
@click.version_option(package_name="dbt-lineage-bridge")
def cli() -> None:
    """Join dbt manifests with Airflow (Cosmos) metadata and emit one lineage graph into DataHub."""


SINK_HELP = "file:PATH | datahub-lite[:PATH] | datahub-rest:URL | datahub-kafka:BOOTSTRAP"
_SINK_TARGETS = {"file": "path", "datahub-lite": "path", "datahub-rest": "server", "datahub-kafka": "bootstrap"}


def parse_sink(spec: str) -> dict[str, object]:
    """`file:out.json` -> {"sink.type": "file", "sink.path": "out.json"}: the fields the flag sets, laid over
    the configuration file's sink section (its token, batch size and the rest stay)."""
    kind, _, target = spec.partition(":")
    if kind not in _SINK_TARGETS:
        raise ConfigError(f"--sink: unknown sink type {kind!r}; use {SINK_HELP}.")
    if not target and kind != "datahub-lite":
        raise ConfigError(f"--sink {kind}: needs a target ({SINK_HELP}).")
    return {"sink.type": kind, f"sink.{_SINK_TARGETS[kind]}": target or DROP}


def sink_output_path(config: BridgeConfig) -> Path | None:
    """The file a sink writes on this machine (file sink, DataHub Lite), to check before anything is read."""
    from bridge.emit.sinks import DEFAULT_LITE_PATH

    if config.sink.type == "file" and config.sink.path:
        return Path(config.sink.path)
    if config.sink.type == "datahub-lite":
        return Path(config.sink.path) if config.sink.path else DEFAULT_LITE_PATH
    return None


_DBT_OPTIONS = [
    click.option("--manifest", "manifests", multiple=True, help="manifest.json (or .gz, or a glob); repeatable"),
    click.option(
        "--dbt-export",
        "dbt_exports",
        multiple=True,
        help="what `dbt run-operation bridge_export` (or the on-run-end recipe) printed; - reads standard input",
    ),
    click.option("--dbt-project-dir", help="a dbt project: the bridge runs the export there with dbt itself"),
    click.option("--dbt-target", help="the dbt target for --dbt-project-dir (dbt's default when not given)"),
    click.option("--dbt-profiles-dir", help="the folder of profiles.yml for --dbt-project-dir"),
    click.option("--run-results", "run_results", multiple=True, help="dbt's run_results.json (or a glob); repeatable"),
    click.option("--catalog", "catalogs", multiple=True, help="dbt's catalog.json (or a glob): columns; repeatable"),
    click.option(
        "--sources-json", "sources", multiple=True, help="`dbt source freshness`'s sources.json (or a glob); repeatable"
    ),
]
_DBT_FIELDS = {
    "manifests": "dbt.manifests",
    "dbt_exports": "dbt.exports",
    "dbt_project_dir": "dbt.project_dir",
    "dbt_target": "dbt.target",
    "dbt_profiles_dir": "dbt.profiles_dir",
    "run_results": "dbt.run_results",
    "catalogs": "dbt.catalogs",
    "sources": "dbt.sources",
}


def dbt_overrides(given: Mapping[str, Any]) -> dict[str, object]:
    """The dbt options given, as the configuration fields they set (a list flag replaces the file's list)."""
    return {field: list(value) if isinstance(value, tuple) else value for name, field in _DBT_FIELDS.items()
            if (value := given.get(name)) is not None}  # fmt: skip


# What Airflow is read and how URNs are named: the same on plan, sync and check.
_SOURCE_OPTIONS = [
    *_DBT_OPTIONS,
    click.option("--airflow-db", help="Airflow metadata DB: postgresql://user:pass@host:port/db or sqlite:///path"),
    click.option("--airflow-url", help="Airflow base URL (REST API, and links in DataHub)"),
    click.option("--config", "config_path", type=click.Path(dir_okay=False), help="YAML configuration file"),
    click.option("--env", help="DataHub environment of the URNs (default PROD)"),
    click.option("--platform-instance", help="the warehouse's platform instance in DataHub"),
]


def source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say what is read, and how its URNs are named."""
    for option in reversed(_SOURCE_OPTIONS):
        command = option(command)
    return command


def input_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say what a sync or a check reads, how its URNs are named, and how it reports."""
    options = [
        *_SOURCE_OPTIONS,
        click.option("--report", "report_path", type=click.Path(dir_okay=False), help="write the run report as JSON"),
        click.option(
            "--fail-on",
            default="error",
            show_default=True,
            help="comma-separated problem codes or severities that give exit code 1; `none`: problems never do",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@dataclass(frozen=True)
class Inputs:
    """What `input_options` collected, as settings laid over the configuration file."""

    manifests: tuple[str, ...]
    dbt_exports: tuple[str, ...]
    dbt_project_dir: str | None
    dbt_target: str | None
    dbt_profiles_dir: str | None
    run_results: tuple[str, ...]
    catalogs: tuple[str, ...]
    sources: tuple[str, ...]
    airflow_db: str | None
    airflow_url: str | None
    config_path: str | None
    env: str | None
    platform_instance: str | None
    report_path: str | None
    fail_on: str

    def overrides(self) -> dict[str, object]:
        return dbt_overrides({name: getattr(self, name) for name in _DBT_FIELDS}) | {
            "airflow_db.url": self.airflow_db,
            "airflow_api.url": self.airflow_url,
            "env": self.env,
            "platform_instance": self.platform_instance,
        }


@cli.command()
@source_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.pass_obj
def plan(
    state: CliState,
    /,
    airflow_db: str | None,
    airflow_url: str | None,
    config_path: str | None,
    env: str | None,
    platform_instance: str | None,
    output_format: str,
    **dbt_given: Any,
) -> None:
    """Show what would be emitted, changing nothing."""
    from bridge.join.dbt_checks import one_per_project
    from bridge.join.pipeline import join_lineage
    from bridge.model.graph import graph_to_json
    from bridge.plan import graph_as_text, plan_as_json, plan_as_text, plan_project
    from bridge.read.dbt.inputs import read_dbt
    from bridge.sync import read_airflow, utc_now

    overrides = dbt_overrides(dbt_given) | {"airflow_db.url": airflow_db, "airflow_api.url": airflow_url}
    config = state.configured(_config(config_path, overrides | {"env": env, "platform_instance": platform_instance}))
    _show_warnings(config)
    dbt = read_dbt(config.dbt)
    plans = [plan_project(project, config) for project in one_per_project(list(dbt.projects))[0]]
    snapshot = read_airflow(config, utc_now)
    graph = (
        join_lineage(list(dbt.projects), snapshot, config.join_settings(), dbt.run_results, dbt.catalog)
        if snapshot
        else None
    )
    if output_format == "json":
        document = plan_as_json(plans) | ({"graph": orjson.loads(graph_to_json(graph))} if graph else {})
        click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(plan_as_text(plans), nl=False)
    if graph is not None:
        click.echo(graph_as_text(graph), nl=False)


@cli.command()
@input_options
@click.option("--sink", "sink_spec", help=SINK_HELP)
@click.option("--graph", "graph_path", type=click.Path(dir_okay=False), help="write the joined graph as JSON")
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False),
    help="incremental: send only what changed since the sync that wrote this file, soft-delete what is gone",
)
@click.option(
    "--fail-safe-threshold",
    type=click.FloatRange(0, 100),
    help="with --state: the percent of DAGs and tasks (or of datasets) a sync may remove (default 75)",
)
@click.pass_obj
def sync(
    state: CliState,
    /,
    sink_spec: str | None,
    graph_path: str | None,
    state_path: str | None,
    fail_safe_threshold: float | None,
    **given: Any,
) -> int:
    """Read dbt and Airflow, join them, and emit the lineage graph to a DataHub sink."""
    import gc
    import importlib

    for module in ("bridge.emit.mcps", "bridge.emit.sinks"):
        importlib.import_module(module)
    # Everything imported so far lives as long as the process: keep the collector from rescanning it
    # (DataHub's schema classes alone are tens of thousands of objects). Saves ~10% of a sync's wall time.
    gc.freeze()
    inputs = Inputs(**given)
    overrides = inputs.overrides() | (parse_sink(sink_spec) if sink_spec else {})
    overrides |= {"state.path": state_path, "state.fail_safe_threshold": fail_safe_threshold}
    output_path(state_path, "--state")  # an empty path is an error, not "no state"
    outputs = [(output_path(graph_path, "--graph"), "graph")]
    result, rules, _ = _run(state, inputs, overrides, outputs, emit=True)
    from bridge.report import redact_report, report_as_text

    click.echo(report_as_text(redact_report(result.report, state.redact), rules), nl=False)
    return _verdict(result, rules)


@cli.command()
@input_options
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), help="write the checks as JUnit XML")
@click.option("--format", "output_format", type=click.Choice(["text", "github"]), default="text", show_default=True,
              help="github: GitHub Actions workflow commands, shown as annotations")  # fmt: skip
@click.pass_obj
def check(state: CliState, /, junit_path: str | None, output_format: str, **given: Any) -> int:
    """The CI gate: read and join as `sync` does, emit nothing, exit 1 when a problem matches --fail-on.

    Imports neither dbt nor DataHub's schema classes: it answers in well under a second."""
    from bridge.ci_formats import report_as_github, report_as_junit
    from bridge.report import redact_report, report_as_text

    junit_file = output_path(junit_path, "--junit")
    inputs = Inputs(**given)
    result, rules, writable = _run(state, inputs, inputs.overrides(), [(junit_file, "JUnit file")], emit=False)
    report = redact_report(result.report, state.redact)
    if junit_file is not None and writable:
        write_output(junit_file, report_as_junit(report, rules), "JUnit file")
    click.echo(
        report_as_github(report, rules) if output_format == "github" else report_as_text(report, rules), nl=False
    )
    return _verdict(result, rules)


def _run(
    state: CliState, inputs: Inputs, overrides: dict[str, object], outputs: list[tuple[Path | None, str]], emit: bool
) -> tuple[SyncResult, frozenset[str], bool]:
    """Configure, check every output path, read, join and (for a sync) emit; write the report on every exit
    from here on. The result, the --fail-on rules, and whether the outputs passed their checks (when not,
    only the report is written)."""
    from bridge.report import build_report, parse_fail_on
    from bridge.sync import SyncResult, run_sync, utc_now

    rules = parse_fail_on(inputs.fail_on)
    config = state.configured(_config(inputs.config_path, overrides))
    _show_warnings(config)
    files = input_files(config, inputs.config_path)
    report_file = output_path(inputs.report_path, "--report")
    if report_file is not None:
        check_outputs([(report_file, "report")], files)
    sink = [(sink_output_path(config), f"{config.sink.type} sink")] if emit else []
    sink += [(Path(config.state.path), "state file")] if emit and config.state.path else []
    try:
        check_outputs([(path, what) for path, what in [(report_file, "report"), *outputs, *sink] if path], files)
    except ConfigError as exc:
        result = SyncResult(None, build_report(None, {}, exc), exc)
        _write_report(result, rules, report_file, state.redact)
        return result, rules, False
    graph_file = next((path for path, what in outputs if what == "graph"), None)
    try:
        result = run_sync(config, utc_now, emit=emit, graph_path=graph_file)
    except (Exception, KeyboardInterrupt) as exc:  # a bug, or Ctrl-C: the report still says so
        _write_report(SyncResult(None, build_report(None, {}, exc)), rules, report_file, state.redact)
        raise
    _write_report(result, rules, report_file, state.redact)
    return result, rules, True


def output_path(value: str | None, flag: str) -> Path | None:
    """The path an output flag gives; an empty one is an error, not a silent no."""
    if value is None:
        return None
    if not value.strip():
        raise ConfigError(f"{flag}: the path is empty.")
    return Path(value)


def input_files(config: BridgeConfig, config_path: str | None) -> list[Path]:
    """The files a sync reads (manifests, dbt artifacts, the configuration, a SQLite DB): no output may be one."""
    exports = [path for path in config.dbt.exports if path != "-"]
    patterns = [*config.dbt.manifests, *exports, *config.dbt.run_results, *config.dbt.catalogs, *config.dbt.sources]
    found = [Path(match) for pattern in patterns for match in glob.glob(pattern, recursive=True)]
    found += [Path(config_path)] if config_path else []
    target = config.airflow_db.target()
    return found + ([Path(target.path)] if target is not None and target.path else [])


def _write_report(result: SyncResult, rules: frozenset[str], report_file: Path | None, redact: Redactor) -> None:
    from bridge.report import redact_report, report_as_json

    if report_file is not None:
        write_output(report_file, report_as_json(redact_report(result.report, redact), rules), "report")


def _verdict(result: SyncResult, rules: frozenset[str]) -> int:
    """How the run ends: its failure (raised for `main`, which prints it), else 1 or 0 by --fail-on."""
    if result.failure is not None:
        raise result.failure
    return EXIT_PROBLEMS if result.report.failing(rules) else EXIT_OK


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: runs the CLI and turns whatever ends it into one line on stderr and an exit code."""
    state = CliState()
    sys.exit(run(argv, state))


class _WarningLines(logging.Handler):
    """The bridge's own log warnings (a retry, a slow answer) as `warning:` lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"warning: {record.getMessage()}", err=True)


def show_log_warnings() -> None:
    """Log warnings and Python warnings (`verify_ssl: false`) as one `warning:` line each."""
    warnings.showwarning = lambda message, *args, **kwargs: click.echo(f"warning: {message}", err=True)
    logger = logging.getLogger("bridge")
    if not any(isinstance(handler, _WarningLines) for handler in logger.handlers):
        logger.addHandler(_WarningLines(logging.WARNING))
        logger.propagate = False


def run(argv: Sequence[str] | None, state: CliState) -> int:
    show_log_warnings()
    try:
        code = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False, obj=state)
    except BridgeError as exc:
        return _fail(state.redact(str(exc)), exc.exit_code)
    except click.exceptions.Abort as exc:  # click's form of Ctrl-C (and of end of input at a prompt)
        interrupted = isinstance(exc.__cause__, KeyboardInterrupt)
        return _fail("interrupted", EXIT_INTERRUPTED) if interrupted else _fail("aborted", EXIT_BAD_INPUT)
    except click.ClickException as exc:
        return _fail(f"{state.redact(exc.format_message())} (see --help)", EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except Exception as exc:  # a bug of ours: still one line, still without secrets
        return _fail(internal_error(exc, state.redact), EXIT_FAILED)
    return code if isinstance(code, int) else EXIT_OK


def _fail(message: str, code: int) -> int:
    click.echo(f"error: {message}", err=True)
    return code


def internal_error(exc: BaseException, redact: Redactor) -> str:
    """`internal error (KeyError at bridge/join/x.py:12): ...`: enough to report, no traceback, no secret."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f"{os.sep}bridge{os.sep}" in f.filename]
    where = ""
    if frames:
        last = frames[-1]
        where = f" at bridge{last.filename.rsplit(f'{os.sep}bridge', 1)[1]}:{last.lineno}"
    return (
        f"internal error ({type(exc).__name__}{where}): {redact(str(exc))[:300]}. This is a bug in the bridge; "
        "please report it with the command you ran."
    )
