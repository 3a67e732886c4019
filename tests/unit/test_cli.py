"""The command line's last guard: an exception nobody planned for is still one line, an exit code, no secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.cli import CliState, run
from tests.cli import BUNDLED_MANIFEST


def test_an_internal_error_is_one_line_with_where_and_no_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object) -> None:
        raise KeyError("postgresql://reader:hunter2-pw@db/airflow")

    monkeypatch.setattr("bridge.sync.read_dbt", broken)
    code = run(["plan", "--manifest", str(BUNDLED_MANIFEST)], CliState())
    err = capsys.readouterr().err
    assert code == 3 and err.count("\n") == 1
    assert err.startswith("error: internal error (KeyError at bridge/sync.py:")
    assert "hunter2" not in err and "This is a bug in the bridge" in err


def test_an_interrupt_is_exit_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("bridge.sync.read_dbt", interrupted)
    assert run(["plan", "--manifest", str(BUNDLED_MANIFEST)], CliState()) == 130
    assert capsys.readouterr().err.strip() == "error: interrupted"  # after the new line click writes first


def test_the_report_is_written_when_a_bug_stops_the_sync(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import orjson

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("bridge.sync.run_sync", broken)
    report = tmp_path / "report.json"
    argv = ["sync", "--manifest", str(BUNDLED_MANIFEST), "--sink", f"file:{tmp_path}/o.json", "--report", str(report)]
    assert run(argv, CliState()) == 3
    failure = orjson.loads(report.read_bytes())["failure"]
    assert (failure["location"], failure["message"]) == (
        "internal",
        "internal error (ZeroDivisionError): division by zero",
    )
    assert "error: internal error (ZeroDivisionError" in capsys.readouterr().err


def test_a_manifest_named_twice_is_read_once() -> None:
    from bridge.read.dbt.inputs import read_projects

    same = [str(BUNDLED_MANIFEST), str(BUNDLED_MANIFEST.parent / ".." / "postgres" / "manifest.json")]
    assert len(read_projects(same)) == 1


@pytest.mark.parametrize(
    "sink",
    [
        # flat keys left empty by `${VAR:-}`: no credentials, so the environment's token is the sink's
        "{type: datahub-rest, server: 'http://gms:8080', oidc_token_url: '', oidc_client_id: '', "
        "oidc_client_secret: ''}",
        # a section that only says how to authenticate, no credentials: the same
        "{type: datahub-rest, server: 'http://gms:8080', oidc: {scope: openid, auth_method: client_secret_basic}}",
    ],
)
def test_without_oidc_credentials_the_sink_takes_datahub_gms_token(
    sink: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridge.cli import _config

    (tmp_path / "bridge.yml").write_text(f"sink: {sink}\n")
    monkeypatch.setenv("DATAHUB_GMS_TOKEN", "gms-token-from-env")
    config = _config(str(tmp_path / "bridge.yml"), {})
    assert config.sink.token is not None and config.sink.token.get_secret_value() == "gms-token-from-env"
    assert config.sink.oidc is None or config.sink.oidc.missing() == ["token_url", "client_id", "client_secret"]


def test_the_original_connectors_username_beside_an_oidc_section_means_oidc(tmp_path: Path) -> None:
    from bridge.cli import _config

    (tmp_path / "bridge.yml").write_text(
        "airflow_url: 'https://airflow.example.com'\nusername: reader\npassword: pw\n"
        "airflow_api: {oidc: {token_url: 'https://idp/token', client_id: bridge, client_secret: s3cr3t}}\n"
    )
    assert _config(str(tmp_path / "bridge.yml"), {}).airflow_api.auth == "oidc"
