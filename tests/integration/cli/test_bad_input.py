"""The exit-code contract, through the real command line: each bad input ends in one readable `error:` line
with its exit code (2 bad input or configuration, 3 a source or sink failed after its retries), never a
traceback, and no planted secret anywhere; `--fail-on` is checked; the report is written on every exit path
after the configuration was read."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest

from tests.airflow_dumps import HOST, PORT, admin, sqlite_dump
from tests.cli import API_PASSWORD, BUNDLED_MANIFEST, DB_PASSWORD, GMS_TOKEN, bridge
from tests.conftest import CORPUS
from tests.fakes.local_http import serving

MANIFEST = str(BUNDLED_MANIFEST)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class CutShort(BaseHTTPRequestHandler):
    """Promises 5,000 bytes of JSON, sends 40, and closes the connection."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "5000")
        self.end_headers()
        self.wfile.write(b'{"version": "3.1.3", "git_version": "abc')
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def cut_short() -> Iterator[str]:
    with serving(CutShort) as url:
        yield url


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    code: int
    says: str  # a piece of the error line
    config: str | None = None  # YAML written to bridge.yml and passed with --config
    setup: Callable[[Path], None] | None = None


def _file(name: str, text: str = "x") -> Callable[[Path], None]:
    return lambda tmp: (tmp / name).write_text(text)


SYNC = ("sync", "--manifest", MANIFEST)
FILE_SINK = ("--sink", "file:out/mcps.json")
CASES: dict[str, Case] = {
    # Malformed URLs and ports; a password with every reserved character, unencoded.
    "db-password-unencoded": Case(
        (*SYNC, "--airflow-db", f"postgresql://reader:{DB_PASSWORD}@{HOST}:{PORT}/airflow"),
        2,
        "airflow_db.url cannot be read: a reserved character seems to stand unencoded in it. Percent-encode",
    ),
    "db-port-not-a-number": Case(
        (*SYNC, "--airflow-db", "postgresql://reader@db:five/airflow"),
        2,
        "airflow_db.url: the port is not a number from 1 to 65535",
    ),
    "db-port-out-of-range": Case(
        (*SYNC, "--airflow-db", "postgresql://reader@db:70000/airflow"), 2, "the port is not a number from 1 to 65535"
    ),
    "db-unknown-scheme": Case(
        (*SYNC, "--airflow-db", "mysql://reader@db/airflow"), 2, "scheme 'mysql' is not supported"
    ),
    "db-no-scheme": Case(
        (*SYNC, "--airflow-db", "db.internal/airflow"),
        2,
        "airflow_db.url has no scheme: use postgresql://user@host:port/database",
    ),
    "db-unknown-option": Case(
        (*SYNC, "--airflow-db", f"postgresql://postgres@{HOST}:{PORT}/postgres?colour=blue"),
        2,
        "the connection settings are not valid",
    ),
    "api-url-not-http": Case(
        (*SYNC, "--airflow-url", "ftp://airflow.internal"), 2, "airflow_api.url must be an http:// or https:// URL"
    ),
    "api-url-port": Case(
        (*SYNC, "--airflow-url", "http://airflow.internal:99999"),
        2,
        "airflow_api.url: the port is not a number from 1 to 65535",
    ),
    "sink-url": Case(
        (*SYNC, "--sink", "datahub-rest:gms.internal:8080"), 2, "sink.server must be an http:// or https://"
    ),
    "sink-type": Case((*SYNC, "--sink", "ftp:somewhere"), 2, "--sink: unknown sink type 'ftp'"),
    "kafka-bootstrap": Case((*SYNC, "--sink", "datahub-kafka:broker:ninety-two"), 3, "Check sink.bootstrap"),
    "kafka-credentials": Case(
        (*SYNC, "--sink", f"datahub-kafka:SASL_SSL://u:{API_PASSWORD}@127.0.0.1:1"),
        2,
        "sink.bootstrap: holds credentials",
    ),
    "db-option-clash": Case(
        (*SYNC, "--airflow-db", f"postgresql://postgres@{HOST}:{PORT}/postgres?host=elsewhere"),
        2,
        "give host in the URL itself, not as an option",
    ),
    "db-option-bad-value": Case(
        (*SYNC, "--airflow-db", f"postgresql://postgres@{HOST}:{PORT}/postgres?sslmode=bogus"),
        2,
        "the connection settings are not valid",
    ),
    "db-nul-character": Case(
        (*SYNC, "--airflow-db", f"postgresql://postgres@{HOST}:{PORT}/post%00gres"),
        2,
        "the connection settings are not valid",
    ),
    "db-option-connect-timeout": Case(
        (*SYNC, "--airflow-db", f"postgresql://reader@127.0.0.1:{free_port()}/airflow?connect_timeout=3"),
        3,
        "cannot connect",
    ),
    "output-is-the-manifest": Case(
        ("sync", "--manifest", "m.json", "--sink", "file:./m.json"),
        2,
        "the file sink path m.json is an input of this sync; writing it would destroy it",
        setup=lambda tmp: (tmp / "m.json").write_bytes(BUNDLED_MANIFEST.read_bytes()),
    ),
    "two-outputs-one-file": Case(
        (*SYNC, *FILE_SINK, "--report", "x.json", "--graph", "x.json"),
        2,
        "the report and the graph would both be written to x.json",
    ),
    "db-option-unknown-service": Case(
        (*SYNC, "--airflow-db", f"postgresql://postgres@{HOST}:{PORT}/postgres?service=nosuchservice"),
        2,
        "the connection settings are not valid",
    ),
    "db-option-unknown-parameter": Case(
        (*SYNC, "--airflow-db", f"postgresql://postgres@{HOST}:{PORT}/postgres?options=-c%20nosuch_param%3D1"),
        2,
        "the connection settings are not valid",
    ),
    "output-symlink-loop": Case(
        (*SYNC, *FILE_SINK, "--report", "loop"),
        2,
        "the report path loop is a symbolic link that loops",
        setup=lambda tmp: (tmp / "loop").symlink_to("loop"),
    ),
    "report-empty-path": Case((*SYNC, *FILE_SINK, "--report", " "), 2, "--report: the path is empty"),
    "yaml-recursive-alias": Case(SYNC, 2, "a YAML alias refers to itself", config="dbt: {manifests: &x [*x]}\n"),
    "fail-on-empty": Case((*SYNC, *FILE_SINK, "--fail-on", " , "), 2, "--fail-on: no rule given"),
    "fail-on-none-and-more": Case(
        (*SYNC, *FILE_SINK, "--fail-on", "none,error"), 2, "--fail-on: `none` cannot be combined with other rules"
    ),
    "fail-on-run-failed": Case((*SYNC, *FILE_SINK, "--fail-on", "run-failed"), 2, "unknown rule run-failed"),
    # Invalid regexes in any rule, reserved characters in env or names.
    "domain-rule-regex": Case(
        SYNC,
        2,
        "domain_rules: '(fred' is not a valid regular expression",
        config="domain_rules: {'(fred': urn:li:domain:fred}\n",
    ),
    "legacy-domain-rule-regex": Case(
        SYNC, 2, "'[a-' is not a valid regular expression", config="domain_pattern_mapping: {'[a-': urn:li:domain:x}\n"
    ),
    "domain-with-comma": Case(
        SYNC, 2, "must be a domain id or URN without , ( or )", config="domain_rules: {'.*': 'urn:li:domain:a,b'}\n"
    ),
    "env-reserved": Case((*SYNC, "--env", "PROD,DEV"), 2, "env: must be one of DataHub's environments"),
    "env-unknown": Case((*SYNC, "--env", "staging"), 2, "env: must be one of DataHub's environments: CERT, CORP"),
    "platform-instance-reserved": Case(
        (*SYNC, "--platform-instance", "eu(1)"), 2, "platform_instance: must be a non-empty name without , ( or )"
    ),
    "cluster-reserved": Case(
        SYNC, 2, "airflow_cluster: must be a non-empty name", config="airflow_cluster: 'prod,eu'\n"
    ),
    # Paths that cannot be written or created: checked before anything is read.
    "report-unwritable": Case(
        (*SYNC, *FILE_SINK, "--report", "/proc/bridge/report.json"),
        2,
        "cannot write the report to /proc/bridge/report.json: /proc does not accept new files",
    ),
    "graph-under-a-file": Case(
        (*SYNC, *FILE_SINK, "--graph", "blocker/graph.json"),
        2,
        "cannot write the graph to blocker/graph.json: blocker is a file, not a folder",
        setup=_file("blocker"),
    ),
    "file-sink-is-a-folder": Case(
        (*SYNC, "--sink", "file:out"), 2, "the file sink path out is a folder", setup=lambda tmp: (tmp / "out").mkdir()
    ),
    "lite-under-a-file": Case(
        (*SYNC, "--sink", "datahub-lite:blocker/lite.db"),
        2,
        "cannot write the datahub-lite sink to blocker/lite.db: blocker is a file",
        setup=_file("blocker"),
    ),
    # A YAML type error in any section, and YAML that is not valid.
    "yaml-dbt": Case(("sync",), 2, "dbt: Input should be a valid dictionary", config="dbt: 5\n"),
    "yaml-manifests": Case(("sync",), 2, "dbt.manifests: Input should be a valid list", config="dbt: {manifests: 5}\n"),
    "yaml-airflow-db": Case(SYNC, 2, "airflow_db: Input should be a valid dictionary", config="airflow_db: [1]\n"),
    "yaml-airflow-db-port": Case(
        SYNC, 2, "airflow_db.port: Input should be a valid integer", config="airflow_db: {host: db, port: five}\n"
    ),
    "yaml-airflow-api": Case(
        SYNC,
        2,
        "airflow_api must be a mapping of settings (found: str)",
        config="airflow_url: http://a\nairflow_api: yes-please\n",
    ),
    "yaml-sink": Case(SYNC, 2, "sink: Input should be a valid dictionary", config="sink: 3\n"),
    "yaml-sink-batch": Case(
        SYNC,
        2,
        "sink.batch_size: Input should be greater than or equal to 1",
        config="sink: {type: file, path: x.json, batch_size: 0}\n",
    ),
    "yaml-run-history": Case(
        SYNC, 2, "run_history.days: Input should be a valid integer", config="run_history: {days: lots}\n"
    ),
    "yaml-domain-rules": Case(
        SYNC, 2, "domain_rules: Input should be a valid dictionary", config="domain_rules: [a]\n"
    ),
    "yaml-legacy-mapping": Case(
        SYNC, 2, "domain_pattern_mapping must be a mapping", config="domain_pattern_mapping: 1\n"
    ),
    "yaml-keycloak": Case(
        SYNC,
        2,
        "keycloak_server and keycloak_realm must be text",
        config="keycloak_server: [a]\nkeycloak_realm: r\nkeycloak_client_id: c\nkeycloak_client_secret: s\n",
    ),
    "yaml-env": Case(SYNC, 2, "env: Input should be a valid string", config="env: [PROD]\n"),
    "yaml-flag": Case(SYNC, 2, "lowercase_urns: Input should be a valid boolean", config="lowercase_urns: maybe\n"),
    "yaml-recipe-config": Case(
        SYNC, 2, "source.config must be a mapping", config="source: {type: bridge, config: 5}\n"
    ),
    "yaml-top-level": Case(SYNC, 2, "expected a mapping of settings at the top level", config="- a\n- b\n"),
    "yaml-syntax": Case(SYNC, 2, "not valid YAML at line 2, column", config="env: PROD\n  sink: : :\n"),
    "yaml-unclosed-quote": Case(
        SYNC,
        2,
        "not valid YAML at line 3, column 1 (found unexpected end of stream)",
        config=f'env: PROD\nairflow_db: {{password: "{DB_PASSWORD}\n',
    ),
    "yaml-alias": Case(SYNC, 2, "not valid YAML", config=f"airflow_api:\n  password: *{API_PASSWORD[:6]}\n"),
    "yaml-missing-env": Case(
        SYNC,
        2,
        "environment variable NOT_SET_ANYWHERE is not set",
        config="airflow_api: {password: '${NOT_SET_ANYWHERE}'}\n",
    ),
    "config-missing": Case(("sync", "--config", "nowhere.yml"), 2, "nowhere.yml: cannot read the configuration file"),
    # Inputs and --fail-on.
    "manifest-missing": Case(
        ("sync", "--manifest", "nowhere/manifest.json", *FILE_SINK), 2, "nowhere/manifest.json: file not found"
    ),
    "no-manifest": Case(("sync", *FILE_SINK), 2, "no dbt project given"),
    # The dbt package's export, dbt run for a project, run results and catalogs.
    "export-no-marker": Case(
        ("sync", "--dbt-export", "dbt.log", *FILE_SINK),
        2,
        "dbt.log: holds no BRIDGE_EXPORT_V1 line. Print it with `dbt run-operation bridge_export`",
        setup=lambda tmp: (tmp / "dbt.log").write_text("05:20:03  Running with dbt=1.11.16\n"),
    ),
    "export-truncated": Case(
        ("sync", "--dbt-export", "dbt.log", *FILE_SINK),
        2,
        "dbt.log, line 2: the document after BRIDGE_EXPORT_V1 is cut short",
        setup=lambda tmp: (tmp / "dbt.log").write_text(
            'dbt says\nBRIDGE_EXPORT_V1 {"format": "dbt-lineage-bridge/export", "format_version": 1, "nodes": [{'
        ),
    ),
    "export-not-json": Case(
        ("sync", "--dbt-export", "dbt.log", *FILE_SINK),
        2,
        "dbt.log, line 1: the document after BRIDGE_EXPORT_V1 is not a JSON object",
        setup=lambda tmp: (tmp / "dbt.log").write_text("BRIDGE_EXPORT_V1 Compilation Error in macro\n"),
    ),
    "export-unknown-version": Case(
        ("sync", "--dbt-export", "dbt.log", *FILE_SINK),
        2,
        "export format_version 2 is not one this bridge reads (1)",
        setup=lambda tmp: (tmp / "dbt.log").write_text(
            'BRIDGE_EXPORT_V1 {"format": "dbt-lineage-bridge/export", "format_version": 2}\n'
        ),
    ),
    "stdin-twice": Case(("sync", "--dbt-export", "-", "--dbt-export", "-", *FILE_SINK), 2, "standard input (-) twice"),
    "dbt-target-alone": Case(
        ("sync", "--dbt-target", "prod", *FILE_SINK), 2, "target and profiles_dir apply to project_dir"
    ),
    "dbt-project-dir-empty": Case(
        ("sync", "--dbt-project-dir", ".", *FILE_SINK), 2, "dbt project .: holds no dbt_project.yml"
    ),
    "dbt-fails-no-profile": Case(
        ("sync", "--dbt-project-dir", "project", "--dbt-profiles-dir", "project", *FILE_SINK),
        2,
        "dbt project project: dbt failed: Runtime Error: Could not find profile named 'nowhere'. To fix: pass "
        "--dbt-profiles-dir",
        setup=lambda tmp: (
            (tmp / "project").mkdir()
            or (tmp / "project" / "dbt_project.yml").write_text("name: p\nversion: '1'\nprofile: nowhere\n")
            or (tmp / "project" / "profiles.yml").write_text("other: {target: x, outputs: {x: {type: postgres}}}\n")
        ),
    ),
    "run-results-not-one": Case(
        (*SYNC, "--run-results", MANIFEST, *FILE_SINK),
        2,
        "manifest.json: has no metadata.dbt_schema_version of a dbt run-results file",
    ),
    "catalog-not-one": Case(
        (*SYNC, "--catalog", "catalog.json", *FILE_SINK),
        2,
        "catalog.json: is not valid JSON",
        setup=lambda tmp: (tmp / "catalog.json").write_text("<html>502 Bad Gateway</html>"),
    ),
    "fail-on-unknown": Case(
        (*SYNC, *FILE_SINK, "--fail-on", "error,unmatched-cosmos"),
        2,
        "--fail-on: unknown rule unmatched-cosmos. Known: none, the severities error, warning, info, "
        "and the codes bad-serialized-dag",
    ),
    "unknown-flag": Case((*SYNC, "--colour"), 2, "No such option '--colour'"),
    # Sources and sinks that fail after their retries.
    "db-unreachable": Case(
        (*SYNC, "--airflow-db", f"postgresql://reader:{quote(DB_PASSWORD, safe='')}@127.0.0.1:{free_port()}/airflow"),
        3,
        "Airflow DB 127.0.0.1:",
    ),
    "db-refused-login": Case(
        SYNC,
        2,
        "the server refused the credentials",
        config=f"airflow_db: {{host: {HOST}, port: {PORT}, database: postgres, username: bridge_nologin,"
        f" password: '{DB_PASSWORD}'}}\n",
    ),
    "gms-unreachable": Case(
        SYNC,
        3,
        "GET /config (connecting) still failed after 1 attempt",
        config="sink: {type: datahub-rest, server: 'GMS_URL', token: '" + GMS_TOKEN + "', max_retries: 0}\n",
    ),
}


@pytest.fixture(scope="module", autouse=True)
def nologin_role() -> None:
    """A role the local server refuses (it trusts 127.0.0.1, so a wrong password alone is never refused)."""
    admin("DO $$ BEGIN CREATE ROLE bridge_nologin NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_and_its_exit_code(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    args = list(case.args)
    if case.setup is not None:
        case.setup(tmp_path)
    if case.config is not None:
        gms = f"http://127.0.0.1:{free_port()}"
        (tmp_path / "bridge.yml").write_text(case.config.replace("GMS_URL", gms))
        args += ["--config", "bridge.yml"]
    run = bridge(*args, cwd=tmp_path)
    assert run.code == case.code, run.stderr
    assert case.says in run.error_line


def test_a_body_cut_short_is_retried_then_fails_with_exit_3(cut_short: str, tmp_path: Path) -> None:
    config = tmp_path / "bridge.yml"
    config.write_text(f"airflow_api: {{url: '{cut_short}', max_retries: 1, password: '{API_PASSWORD}',"
                      " username: admin, auth: basic}\n")  # fmt: skip
    run = bridge(*SYNC, "--config", "bridge.yml", "--report", "report.json", cwd=tmp_path)
    assert run.code == 3
    assert "still failing after 2 attempts (last: the answer was cut short" in run.error_line
    report = orjson.loads((tmp_path / "report.json").read_bytes())
    assert report["ok"] is False and report["failure"]["location"] == "source"


def test_the_report_is_written_on_every_exit_path_after_the_configuration(tmp_path: Path) -> None:
    """A failing sink after a full join: the report holds the join's counts, what was delivered (nothing)
    and the failure; the exit code is 3; the graph written before emitting is whole."""
    (tmp_path / "bridge.yml").write_text(f"sink: {{type: file, path: x.json, token: '{GMS_TOKEN}', max_retries: 0}}\n")
    run = bridge(*SYNC, "--config", "bridge.yml", "--sink", f"datahub-rest:http://127.0.0.1:{free_port()}",
                 "--report", "r/report.json", "--graph", "graph.json", cwd=tmp_path)  # fmt: skip
    assert run.code == 3 and "datahub-rest http://127.0.0.1:" in run.error_line
    assert "still failed after 1 attempt" in run.error_line  # the file's max_retries held beside the flag
    report = orjson.loads((tmp_path / "r" / "report.json").read_bytes())
    assert report["counts"]["dbt_datasets"] == 31 and report["emitted"] == {}
    assert report["failure"]["code"] == "run-failed" and report["failure"]["location"] == "sink"
    assert orjson.loads((tmp_path / "graph.json").read_bytes())["datasets"]
    assert "FAILED: the sync stopped (sink)" in run.stdout


def test_an_input_error_after_the_configuration_writes_the_report_too(tmp_path: Path) -> None:
    run = bridge("sync", "--manifest", "missing.json", *FILE_SINK, "--report", "report.json", cwd=tmp_path)
    assert run.code == 2 and "missing.json: file not found" in run.error_line
    report = orjson.loads((tmp_path / "report.json").read_bytes())
    assert report["failure"]["location"] == "source" and report["counts"]["datasets"] == 0
    assert not (tmp_path / "out" / "mcps.json").exists()


FAIL_ON = [("error", 1), ("unmatched-cosmos-task", 1), ("none", 0), ("warning", 1), ("dag-import-error", 1),
           ("domain-conflict,legacy-guess-wrong", 0), ("model-without-domain", 1), ("INFO", 1)]  # fmt: skip


@pytest.mark.parametrize(("fail_on", "code"), FAIL_ON)
def test_fail_on_decides_exit_1(fail_on: str, code: int, tmp_path: Path) -> None:
    """jaffle-shop's manifest against an Airflow whose Cosmos tasks name models it lacks: errors; its models
    have no domain: info; the Airflow has a DAG file it could not import: a warning."""
    jaffle = CORPUS / "jaffle-shop" / "manifest.parse.json"

    db = sqlite_dump(tmp_path)
    run = bridge("sync", "--manifest", str(jaffle), "--airflow-db", f"sqlite:///{db}", *FILE_SINK,
                 "--fail-on", fail_on, "--report", "report.json", cwd=tmp_path)  # fmt: skip
    assert run.code == code, run.stdout + run.stderr
    assert "unmatched-cosmos-task" in run.stdout
    assert orjson.loads((tmp_path / "report.json").read_bytes())["ok"] is (code == 0)
