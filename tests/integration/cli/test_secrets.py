"""Secrets never leak, through the real command line: credentials in an Airflow URL become basic auth and leave
every URL the bridge writes; what a hostile server sends back (its error page, a JSON detail echoing the
request) is redacted; credentials are never sent to another origin by a redirect. At the end, one sweep runs
every case of this folder again and greps every stream and file for the planted secrets."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.airflow_dumps import sqlite_dump
from tests.cli import (
    API_PASSWORD,
    API_TOKEN,
    BUNDLED_MANIFEST,
    CLIENT_SECRET,
    GMS_TOKEN,
    PLANTED,
    Run,
    bridge,
    recording,
)
from tests.fakes.echo import Echo, echo_server
from tests.integration.cli import test_bad_input as table

SYNC = ("sync", "--manifest", str(BUNDLED_MANIFEST), "--sink", "file:out/mcps.json")
BASIC = base64.b64encode(f"admin:{API_PASSWORD}".encode()).decode()
HOSTILE_PAGE = (
    "<html><head><style>h1{{}}</style></head><body><h1>Bad request</h1><p>{auth} from {url}</p></body></html>"
)


def assert_clean(run: Run) -> None:
    """Beyond the planted secrets (checked by `bridge`): the basic-auth credential they make."""
    for name, data in run.texts().items():
        assert BASIC.encode() not in data, f"{name} holds the basic-auth credential"


def test_credentials_in_the_airflow_url_become_basic_auth_and_are_not_echoed(tmp_path: Path) -> None:
    with echo_server(Echo(status=400, body=HOSTILE_PAGE)) as airflow:
        url = airflow.url.replace("http://", f"http://admin:{API_PASSWORD}@")
        run = bridge(*SYNC, "--airflow-url", url, cwd=tmp_path)
    assert [seen.authorization for seen in airflow.seen][:1] == [f"Basic {BASIC}"]
    assert run.code == 2
    line = run.error_line
    assert f"Airflow API GET {airflow.url}/api/v2/version: HTTP 400 (Bad request Basic *** from {airflow.url}" in line
    assert "h1{}" not in line and "<" not in line  # the page's text, not its markup
    assert_clean(run)


def test_links_into_airflow_carry_no_credentials(tmp_path: Path) -> None:
    db = sqlite_dump(tmp_path)
    url = f"https://admin:{API_PASSWORD}@airflow.example.com"
    run = bridge(*SYNC, "--airflow-db", f"sqlite:///{db}", "--airflow-url", url, "--graph", "graph.json",
                 "--report", "report.json", "--html", "page.html", "--fail-on", "none", cwd=tmp_path)  # fmt: skip
    assert run.code == 0, run.stderr
    mcps = (tmp_path / "out" / "mcps.json").read_text()
    assert '"https://airflow.example.com/dags/finance_dbt"' in mcps and "admin" not in mcps
    assert "https://airflow.example.com/dags/finance_dbt" in (tmp_path / "page.html").read_text()
    assert_clean(run)  # the page too


def test_what_a_datahub_server_echoes_is_redacted(tmp_path: Path) -> None:
    """The token alone (not behind `Bearer`), after filler that puts it where the message is cut: redacted by
    the configured secret, before the message is shortened."""
    body = '{{"status": 401, "message": "' + "x" * 290 + ' {token} and {auth} are not valid for {url}"}}'
    (tmp_path / "bridge.yml").write_text(f"sink: {{max_retries: 0, token: '{GMS_TOKEN}'}}\n")
    with echo_server(Echo(status=401, body=body, content_type="application/json")) as gms:
        run = bridge(*SYNC, "--config", "bridge.yml", "--sink", f"datahub-rest:{gms.url}", cwd=tmp_path)
    assert gms.seen[0].authorization == f"Bearer {GMS_TOKEN}"  # the file's token kept beside the flag
    assert run.code == 3
    assert "failed (HTTP 401: xxxxxxxxx" in run.error_line and GMS_TOKEN[:8] not in run.error_line
    assert "not retried. Check sink.token" in run.error_line


def test_the_rest_sink_takes_datahubs_token_variable_and_keeps_it_secret(tmp_path: Path) -> None:
    """`DATAHUB_GMS_TOKEN`, as DataHub's own CLI reads it, when the sink has no credentials of its own."""
    body = '{{"status": 401, "message": "token {token} refused"}}'
    with echo_server(Echo(status=401, body=body, content_type="application/json")) as gms:
        run = bridge(*SYNC, "--sink", f"datahub-rest:{gms.url}", cwd=tmp_path, env={"DATAHUB_GMS_TOKEN": GMS_TOKEN})
    assert gms.seen[0].authorization == f"Bearer {GMS_TOKEN}"
    assert run.code == 3 and "token *** refused" in run.error_line


@pytest.mark.parametrize("target", ["oidc-token", "airflow-api", "datahub-rest"])
def test_a_redirect_to_another_origin_is_refused_and_no_credential_goes_there(target: str, tmp_path: Path) -> None:
    elsewhere_echo = Echo(status=200, body="{{}}", content_type="application/json")
    with echo_server(elsewhere_echo) as elsewhere, echo_server(Echo(redirect_to=elsewhere_echo.url)) as service:
        config = {
            "oidc-token": f"airflow_api: {{url: '{service.url}', auth: oidc, oidc_token_url: '{service.url}/token',"
            f" oidc_client_id: bridge, oidc_client_secret: '{CLIENT_SECRET}', max_retries: 0}}\n",
            "airflow-api": f"airflow_api: {{url: '{service.url}', auth: bearer, token: '{API_TOKEN}',"
            " max_retries: 0}\n",
            "datahub-rest": f"sink: {{type: datahub-rest, server: '{service.url}', token: '{GMS_TOKEN}',"
            " max_retries: 0}\n",
        }[target]
        (tmp_path / "bridge.yml").write_text(config)
        run = bridge("sync", "--manifest", str(BUNDLED_MANIFEST), "--config", "bridge.yml", cwd=tmp_path)
    assert service.seen, "the service was asked"
    assert elsewhere.seen == [], "a credential was sent to another origin"
    assert run.code == (3 if target == "datahub-rest" else 2)
    assert f"redirected to {elsewhere.url}, another origin; not followed" in run.error_line


def test_a_secret_that_is_a_common_word_leaves_the_report_valid(tmp_path: Path) -> None:
    """Redaction masks messages, not the report's structure: a password `error` does not touch `fail_on`."""
    (tmp_path / "bridge.yml").write_text("sink: {token: 'error'}\n")
    run = bridge(*SYNC, "--config", "bridge.yml", "--report", "report.json", cwd=tmp_path)
    import orjson

    report = orjson.loads((tmp_path / "report.json").read_bytes())
    assert report["fail_on"] == ["error"] and report["ok"] is True and run.code == 0


def test_tls_verification_off_is_one_warning_line(tmp_path: Path) -> None:
    (tmp_path / "bridge.yml").write_text("airflow_api: {verify_ssl: false, max_retries: 0, timeout: 2}\n")
    run = bridge("plan", "--manifest", str(BUNDLED_MANIFEST), "--config", "bridge.yml", "--airflow-url",
                 "https://127.0.0.1:1", cwd=tmp_path)  # fmt: skip
    assert run.code == 3 and "Airflow API GET https://127.0.0.1:1/api/v2/version" in run.error_line
    [warning] = [line for line in run.stderr.splitlines() if line.startswith("warning: ")]
    assert "TLS certificates of https://127.0.0.1:1 are not verified" in warning
    assert len(run.stderr.splitlines()) == 2


def test_planted_secrets_appear_in_no_stream_and_no_file(tmp_path: Path) -> None:
    """Every case above and of the bad-input table, run again into one folder; then every stream and every
    file they left is searched for every planted secret (and the basic-auth credential they make)."""
    with recording() as runs:
        for number, name in enumerate(sorted(table.CASES)):
            table.test_bad_input_is_one_line_and_its_exit_code(name, _folder(tmp_path, f"case{number}"))
        test_credentials_in_the_airflow_url_become_basic_auth_and_are_not_echoed(_folder(tmp_path, "url"))
        test_links_into_airflow_carry_no_credentials(_folder(tmp_path, "links"))
        test_what_a_datahub_server_echoes_is_redacted(_folder(tmp_path, "gms"))
        for target in ("oidc-token", "airflow-api", "datahub-rest"):
            test_a_redirect_to_another_origin_is_refused_and_no_credential_goes_there(target, _folder(tmp_path, target))
    assert len(runs) == len(table.CASES) + 6
    inputs = set(tmp_path.rglob("*.yml")) | set(tmp_path.rglob("airflow.db"))
    written = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and path not in inputs}
    streams = {f"run {i} {stream}": text.encode() for i, r in enumerate(runs) for stream, text in
               (("stdout", r.stdout), ("stderr", r.stderr))}  # fmt: skip
    found = [
        (name, secret)
        for name, data in {**{str(p): d for p, d in written.items()}, **streams}.items()
        for secret in (*PLANTED, BASIC)
        if secret.encode() in data
    ]
    assert found == []
    assert any(path.name == "mcps.json" for path in written) and any(path.name == "report.json" for path in written)


def _folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return folder
