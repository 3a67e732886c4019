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
import time
import traceback
import warnings
from collections import Counter
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
from bridge.progress import Progress, stderr_progress
from bridge.redact import Redactor
from bridge.run_report import DEFAULT_FAIL_ON

if TYPE_CHECKING:
    from bridge.model.graph import LineageGraph
    from bridge.model.report import RunReport
    from bridge.sync import SyncResult

EXIT_OK, EXIT_PROBLEMS = 0, 1
EXIT_INTERRUPTED = 130
DROP = object()  # an override that removes a field of the file's section (`--sink datahub-lite`: its default path)


@dataclass
class CliState:
    """What the command that runs shares with `main`: the redactor for the configuration's secrets, how much
    it says (`--quiet`, `--verbose`) and when it started (for the summary line)."""

    redact: Redactor = field(default_factory=Redactor)
    quiet: bool = False
    verbose: bool = False
    started: float = field(default_factory=time.monotonic)

    def configured(self, config: BridgeConfig) -> BridgeConfig:
        self.redact = Redactor(config.secrets())
        return config

    def progress(self) -> Progress:
        return stderr_progress(self.quiet, self.verbose)

    def say(self, text: str) -> None:
        """The command's report: not shown with --quiet (its summary line always is)."""
        if not self.quiet:
            click.echo(text, nl=False)


def _set_quiet(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        _say_how_much(ctx.ensure_object(CliState), quiet=True)


def _set_verbose(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        _say_how_much(ctx.ensure_object(CliState), verbose=True)


def _say_how_much(state: CliState, quiet: bool = False, verbose: bool = False) -> None:
    state.quiet |= quiet
    state.verbose |= verbose
    if state.quiet and state.verbose:
        raise click.UsageError("--quiet and --verbose contradict each other; give one")
    logging.getLogger("bridge").setLevel(logging.ERROR if state.quiet else logging.INFO)


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--quiet` and `--verbose`, on every command."""
    quiet = click.option("-q", "--quiet", is_flag=True, expose_value=False, is_eager=True, callback=_set_quiet,
                         help="no progress, no warnings, no report: errors and the summary line (plan still "
                              "prints its plan)")  # fmt: skip
    verbose = click.option("-v", "--verbose", is_flag=True, expose_value=False, is_eager=True,
                           callback=_set_verbose,
                           help="each step with its timing (also when not on a terminal), and info logs")  # fmt: skip
    return quiet(verbose(command))


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
    given = sink.get("oidc")
    section: dict[str, Any] = given if isinstance(given, dict) else {}
    credentials = ("token_url", "client_id", "client_secret")
    if sink.get("token") or any(sink.get(f"oidc_{key}") or section.get(key) for key in credentials):
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


def _show_warnings(config: BridgeConfig, state: CliState) -> None:
    for warning in config.warnings if not state.quiet else ():
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
            default=DEFAULT_FAIL_ON,
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


HTML_HELP = "write the lineage page: one HTML file that opens offline and draws the joined graph"


@cli.command()
@source_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help=HTML_HELP)
@output_options
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
    html_path: str | None,
    **dbt_given: Any,
) -> None:
    """Show what would be emitted, changing nothing."""
    from bridge.join.dbt_checks import one_per_project
    from bridge.model.graph import graph_to_json
    from bridge.plan import graph_as_text, plan_as_json, plan_as_text, plan_project
    from bridge.run_report import build_report, redact_report
    from bridge.sync import SyncResult, join_inputs, read_inputs, utc_now

    overrides = dbt_overrides(dbt_given) | {"airflow_db.url": airflow_db, "airflow_api.url": airflow_url}
    config = state.configured(_config(config_path, overrides | {"env": env, "platform_instance": platform_instance}))
    _show_warnings(config, state)
    html_file = page_output(html_path)
    if html_file is not None:
        check_outputs([(html_file, "lineage page")], input_files(config, config_path))
    progress = state.progress()
    dbt, snapshot = read_inputs(config, utc_now, progress=progress)
    graph = join_inputs(dbt, snapshot, config, progress)
    plans = [plan_project(project, config) for project in one_per_project(list(dbt.projects))[0]]
    version = snapshot.airflow_version if snapshot else None
    result = SyncResult(graph, redact_report(build_report(graph, {}), state.redact), None, version)
    if html_file is not None:
        _write_page(html_file, graph, result.report, config, version, "plan")
    if output_format == "json":  # stdout holds the JSON document only; the summary goes to stderr
        document = plan_as_json(plans) | ({"graph": orjson.loads(graph_to_json(graph))} if snapshot else {})
        click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(plan_as_text(plans) + (graph_as_text(graph) if snapshot is not None else ""), nl=False)
    click.echo(summary_line("plan", result, frozenset(), state), err=output_format == "json")


@cli.command()
@input_options
@click.option("--sink", "sink_spec", help=SINK_HELP)
@click.option("--graph", "graph_path", type=click.Path(dir_okay=False), help="write the joined graph as JSON")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help=HTML_HELP)
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
@output_options
@click.pass_obj
def sync(
    state: CliState,
    /,
    sink_spec: str | None,
    graph_path: str | None,
    html_path: str | None,
    state_path: str | None,
    fail_safe_threshold: float | None,
    **given: Any,
) -> int:
    """Read dbt and Airflow, join them, and emit the lineage graph to a DataHub sink."""
    inputs = Inputs(**given)
    overrides = inputs.overrides() | (parse_sink(sink_spec) if sink_spec else {})
    overrides |= {"state.path": state_path, "state.fail_safe_threshold": fail_safe_threshold}
    output_path(state_path, "--state")  # an empty path is an error, not "no state"
    outputs = [(output_path(graph_path, "--graph"), "graph"), (page_output(html_path), "lineage page")]
    result, rules, _ = _run(state, inputs, overrides, outputs, "sync")
    from bridge.run_report import redact_report, report_as_text

    state.say(report_as_text(redact_report(result.report, state.redact), rules))
    click.echo(summary_line("sync", result, rules, state))
    return _verdict(result, rules)


@cli.command()
@input_options
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), help="write the checks as JUnit XML")
@click.option("--format", "output_format", type=click.Choice(["text", "github"]), default="text", show_default=True,
              help="github: GitHub Actions workflow commands, shown as annotations")  # fmt: skip
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help=HTML_HELP)
@output_options
@click.pass_obj
def check(state: CliState, /, junit_path: str | None, output_format: str, html_path: str | None, **given: Any) -> int:
    """The CI gate: read and join as `sync` does, emit nothing, exit 1 when a problem matches --fail-on.

    Imports neither dbt nor DataHub's schema classes (unless --html asks for the page, which shows DataHub
    URNs): it answers in well under a second."""
    from bridge.ci_formats import report_as_github, report_as_junit
    from bridge.run_report import redact_report, report_as_text

    junit_file = output_path(junit_path, "--junit")
    inputs = Inputs(**given)
    outputs = [(junit_file, "JUnit file"), (page_output(html_path), "lineage page")]
    result, rules, writable = _run(state, inputs, inputs.overrides(), outputs, "check")
    report = redact_report(result.report, state.redact)
    if junit_file is not None and writable:
        write_output(junit_file, report_as_junit(report, rules), "JUnit file")
    if output_format == "github":  # stdout holds annotations only (also with --quiet); the summary goes to stderr
        click.echo(report_as_github(report, rules), nl=False)
    else:
        state.say(report_as_text(report, rules))
    click.echo(summary_line("check", result, rules, state), err=output_format == "github")
    return _verdict(result, rules)


@cli.command()
@click.option("--out", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False),
              help="the folder for the DataHub Lite file, the page, the graph and the report")  # fmt: skip
@output_options
@click.pass_obj
def demo(state: CliState, /, out_dir: str) -> int:
    """The bundled dbt project joined with a real Airflow 3.3 database, synced into DataHub Lite, and drawn.

    Needs no server and no credentials; runs from a clone of the repository (the project and the Airflow
    database it uses are bundled there, not in the package)."""
    from bridge.demo import demo_files, demo_overrides, demo_summary, open_command
    from bridge.run_report import redact_report, report_as_text

    files = demo_files()
    out = Path(out_dir).resolve()
    page = out / "lineage.html"
    inputs = Inputs(
        manifests=(), dbt_exports=(), dbt_project_dir=None, dbt_target=None, dbt_profiles_dir=None,
        run_results=(), catalogs=(), sources=(), airflow_db=None, airflow_url=None, config_path=str(files.config),
        env=None, platform_instance=None, report_path=str(out / "report.json"), fail_on=DEFAULT_FAIL_ON,
    )  # fmt: skip
    overrides = demo_overrides(files, out)
    outputs: list[tuple[Path | None, str]] = [(out / "lineage.json", "graph"), (page, "lineage page")]
    result, rules, _ = _run(state, inputs, overrides, outputs, "demo")
    state.say(report_as_text(redact_report(result.report, state.redact), rules))
    if result.graph is not None:
        state.say(demo_summary(result.graph, out))
        click.echo(f"The lineage page: {page}\nOpen it with:  {open_command(page)}")
    click.echo(summary_line("demo", result, rules, state))
    return _verdict(result, rules)


def _run(
    state: CliState,
    inputs: Inputs,
    overrides: dict[str, object],
    outputs: list[tuple[Path | None, str]],
    command: str,
) -> tuple[SyncResult, frozenset[str], bool]:
    """Configure, check every output path, read, join and (for `sync` and `demo`) emit; write the report (and the page)
    on every exit from here on. The result, the --fail-on rules, and whether the outputs passed their checks
    (when not, only the report is written)."""
    from bridge.run_report import build_report, parse_fail_on, redact_report
    from bridge.sync import SyncResult, run_sync, utc_now

    emit = command != "check"
    rules = parse_fail_on(inputs.fail_on)
    config = state.configured(_config(inputs.config_path, overrides))
    _show_warnings(config, state)
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
    page_file = next((path for path, what in outputs if what == "lineage page"), None)
    try:
        result = run_sync(config, utc_now, emit=emit, graph_path=graph_file, progress=state.progress())
    except (Exception, KeyboardInterrupt) as exc:  # a bug, or Ctrl-C: the report still says so
        _write_report(SyncResult(None, build_report(None, {}, exc)), rules, report_file, state.redact)
        raise
    _write_report(result, rules, report_file, state.redact)
    if page_file is not None:
        report = redact_report(result.report, state.redact)
        _write_page(page_file, result.graph, report, config, result.airflow_version, command)
    return result, rules, True


def _write_page(
    path: Path, graph: LineageGraph | None, report: RunReport, config: BridgeConfig, version: str | None, command: str
) -> None:
    """The lineage page; after a sync that stopped before the join, a page of its report alone."""
    from bridge.model.graph import LineageGraph
    from bridge.page.html import write_page
    from bridge.sync import airflow_urls

    write_page(path, graph or LineageGraph(), report, f"Lineage ({command})", airflow_urls(config, version))


def summary_line(command: str, result: SyncResult, rules: frozenset[str], state: CliState) -> str:
    """The last line of every run: the verdict, what was joined and delivered, the problems, the time."""
    from bridge.run_report import plural

    report = result.report
    counts = report.counts
    verdict = "FAILED" if result.failure is not None or report.failing(rules) else "ok"
    parts = [f"{counts['dags']:,} DAGs", f"{counts['tasks']:,} tasks", f"{counts['dbt_datasets']:,} dbt nodes"]
    if report.emitted or command in ("sync", "demo"):
        parts.append(f"{sum(report.emitted.values()):,} aspects delivered")
    severities = Counter(problem.severity for problem in report.problems)
    parts.append(", ".join(plural(n, severity) for severity, n in sorted(severities.items())) or "no problems")
    return f"{command} {verdict}: {', '.join(parts)} in {time.monotonic() - state.started:.1f} s"


def page_output(value: str | None) -> Path | None:
    """`--html`'s path; when given, the graph library that draws the page must be installed (checked first)."""
    path = output_path(value, "--html")
    if path is not None:
        from bridge.page.html import graph_library_path

        graph_library_path()
    return path


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
    from bridge.run_report import redact_report, report_as_json

    if report_file is not None:
        write_output(report_file, report_as_json(redact_report(result.report, redact), rules), "report")


def _verdict(result: SyncResult, rules: frozenset[str]) -> int:
    """How the run ends: its failure (raised for `main`, which prints it), else 1 or 0 by --fail-on."""
    if result.failure is not None:
        raise result.failure
    return EXIT_PROBLEMS if result.report.failing(rules) else EXIT_OK


def main(argv: Sequence[str] | None = None) -> None:
    """Runs the CLI and turns whatever ends it into one line on stderr and an exit code (`bridge.entry` calls
    it, with the collector tuned)."""
    state = CliState()
    sys.exit(run(argv, state))


class _WarningLines(logging.Handler):
    """The bridge's own log warnings (a retry, a slow answer) as `warning:` lines on stderr (and, with
    --verbose, its informational logs as `info:` lines)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)


def _show_python_warning(message: Warning | str, *args: object, **kwargs: object) -> None:
    if logging.getLogger("bridge").level < logging.ERROR:  # --quiet raises it to ERROR
        click.echo(f"warning: {message}", err=True)


def show_log_warnings() -> None:
    """Log warnings and Python warnings (`verify_ssl: false`) as one `warning:` line each."""
    warnings.showwarning = _show_python_warning
    logger = logging.getLogger("bridge")
    logger.setLevel(logging.WARNING)
    if not any(isinstance(handler, _WarningLines) for handler in logger.handlers):
        logger.addHandler(_WarningLines(logging.INFO))
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
