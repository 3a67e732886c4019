"""DataHub Lite, the embedded default: a local database file `datahub lite` browses, one sync at a time."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from datahub.emitter.mcp import MetadataChangeProposalWrapper

from bridge.emit.sinks.base import EmitResult
from bridge.errors import SinkTerminalError, SinkTransientError

# The file `datahub lite` reads by default (DataHub 1.7: SQLite), so `datahub lite ls` shows what we wrote.
DEFAULT_LITE_PATH = Path.home() / ".datahub" / "lite" / "datahub.db"


class LiteSink:
    """DataHub Lite: a local database file that `datahub lite` can browse (SQLite, or DuckDB for *.duckdb).

    One sync writes to a file at a time: the sink holds an exclusive lock on `<file>.lock` from open to close,
    and a second sync waits for it up to `timeout` seconds, then stops with a message saying why."""

    def __init__(self, path: Path, timeout: float, sleep: Callable[[float], None] = time.sleep) -> None:
        from datahub.lite.lite_util import get_datahub_lite

        self.path = path
        self.acknowledged = EmitResult()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = LockFile(path.with_name(path.name + ".lock"))
        self.lock.acquire(timeout, sleep, f"datahub-lite {path}")
        try:
            engine = "duckdb" if path.suffix == ".duckdb" else "sqlite"
            self.lite = get_datahub_lite({"type": engine, "config": {"file": str(path)}})
        except Exception as exc:  # the engines raise their own errors for a locked or corrupt file
            self.lock.release()
            raise SinkTerminalError(
                f"datahub-lite: cannot open {path} ({type(exc).__name__}: {str(exc)[:200]}). "
                "If the file is damaged, move it away and sync again."
            ) from None

    def emit(self, proposals: Iterable[MetadataChangeProposalWrapper]) -> EmitResult:
        result = self.acknowledged = EmitResult()
        for proposal in proposals:
            self.lite.write(proposal)
            result.add(proposal)
        return result

    def close(self) -> None:
        try:
            self.lite.close()
        finally:
            self.lock.release()


class LockFile:
    """An exclusive advisory lock (`flock`) on a file beside an output; released when the process ends."""

    POLL_S = 0.1

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, timeout: float, sleep: Callable[[float], None], what: str) -> None:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as exc:
            raise SinkTerminalError(f"{what}: cannot create the lock file {self.path} ({exc.strerror}).") from None
        waited = 0.0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if waited >= timeout:
                    os.close(fd)
                    raise SinkTransientError(
                        f"{what}: another sync is writing to it (it holds {self.path}); waited {timeout:g} s. "
                        "Run this sync again when that one has finished, or raise sink.timeout."
                    ) from None
                sleep(self.POLL_S)
                waited += self.POLL_S
                continue
            self.fd = fd
            return

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
