"""Time limits: a server that trickles bytes cannot hold a request past its timeout (a total deadline, not a
per-read one), and PostgreSQL reads stop at their statement and lock timeouts, saying which table waited."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import psycopg2
import pytest

from tests.cli import BUNDLED_MANIFEST, bridge
from tests.fakes.local_http import serving

TRICKLE_FOR_S = 20.0  # the fake gives up by itself after this long


class TrickleBody(BaseHTTPRequestHandler):
    """Headers at once, then a byte of body every 0.2 s: every read succeeds, the answer never ends in time."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self._trickle(b'{"version": "3.1.3"' + b" " * 980)

    def _trickle(self, data: bytes) -> None:
        started = time.monotonic()
        for byte in data:
            if time.monotonic() - started > TRICKLE_FOR_S:
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.2)

    def log_message(self, *args: object) -> None:
        pass


class TrickleHeaders(TrickleBody):
    """The status line, then the headers a byte every 0.2 s."""

    def do_GET(self) -> None:
        self._trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"x" * 500)


class TrickleUntilClose(TrickleBody):
    """No Content-Length: the body ends when the connection closes (HTTP/1.0), so a cut-off body looks whole."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self._trickle(b'{"version": "3.1.3", "git_version": "' + b"0" * 500 + b'"}')


@pytest.fixture(params=[TrickleBody, TrickleHeaders, TrickleUntilClose], ids=["body", "headers", "until-close"])
def trickling(request: pytest.FixtureRequest) -> Iterator[str]:
    with serving(request.param) as url:
        yield url


def test_a_trickling_airflow_api_fails_at_the_total_deadline(trickling: str, tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "bridge.yml").write_text(f"airflow_api: {{url: '{trickling}', timeout: 1, max_retries: 0}}\n")
    started = time.monotonic()
    run = bridge("plan", "--manifest", str(BUNDLED_MANIFEST), "--config", "bridge.yml", cwd=folder)
    elapsed = time.monotonic() - started
    assert run.code == 3
    assert "no complete answer within the total deadline of 1 s" in run.error_line
    assert elapsed < 8, f"the request was held {elapsed:.1f} s"  # 1 s deadline plus start-up, far below 20 s


def test_a_trickling_datahub_server_fails_at_the_total_deadline(trickling: str, tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "bridge.yml").write_text(
        f"sink: {{type: datahub-rest, server: '{trickling}', timeout: 1, max_retries: 0}}\n"
    )
    started = time.monotonic()
    run = bridge("sync", "--manifest", str(BUNDLED_MANIFEST), "--config", "bridge.yml", cwd=folder)
    assert run.code == 3
    assert "no complete answer within the total deadline of 1 s" in run.error_line
    assert time.monotonic() - started < 8


@pytest.fixture
def locked_task_instances(restored: dict[str, str]) -> Iterator[str]:
    """The af33 database with `task_instance` locked as a migration would (ACCESS EXCLUSIVE); its URL."""
    url = restored["af33"]
    holder = psycopg2.connect(url)
    try:
        with holder.cursor() as cursor:
            cursor.execute("LOCK TABLE task_instance IN ACCESS EXCLUSIVE MODE")
        yield url
    finally:
        holder.rollback()
        holder.close()


@pytest.mark.parametrize(
    ("timeouts", "says"),
    [
        ("lock_timeout: 1", "the statement reading task_instance waited too long for a lock (airflow_db.lock_timeout)"),
        ("statement_timeout: 1, lock_timeout: 60",
         "the statement reading task_instance ran past airflow_db.statement_timeout and was cancelled"),
    ],
)  # fmt: skip
def test_postgres_reads_stop_at_their_timeouts_naming_the_table(
    locked_task_instances: str, timeouts: str, says: str, tmp_path: Path
) -> None:
    folder = tmp_path
    (folder / "bridge.yml").write_text(f"airflow_db: {{url: '{locked_task_instances}', {timeouts}}}\n")
    started = time.monotonic()
    run = bridge("plan", "--manifest", str(BUNDLED_MANIFEST), "--config", "bridge.yml", cwd=folder)
    assert run.code == 3, run.stderr
    assert says in run.error_line
    assert time.monotonic() - started < 10
