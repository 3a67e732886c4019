"""Where MCPs go: a file `datahub ingest` can replay, DataHub Lite (the embedded default), a DataHub server
over REST, or Kafka. Every sink counts what it sent, by aspect; errors say whether a retry can help."""

from __future__ import annotations

import fcntl
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.serialization_helper import pre_json_transform
from datahub.metadata.schema_classes import BrowsePathsV2Class, StatusClass, SubTypesClass

from bridge.config import SinkConfig
from bridge.emit.aspect_json import aspect_to_obj
from bridge.errors import ConfigError, SinkTerminalError, SinkTransientError
from bridge.outputs import atomic_output

# The file `datahub lite` reads by default (DataHub 1.7: SQLite), so `datahub lite ls` shows what we wrote.
DEFAULT_LITE_PATH = Path.home() / ".datahub" / "lite" / "datahub.db"


@dataclass
class EmitResult:
    """MCPs by aspect name that the sink wrote, or that the server acknowledged (never merely attempted)."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, proposal: MetadataChangeProposalWrapper) -> None:
        self.counts[proposal.aspectName or "unknown"] += 1


class Sink(Protocol):
    # What was delivered so far: after `emit` raised, what had been written or acknowledged before the failure.
    acknowledged: EmitResult

    def emit(self, proposals: Iterable[MetadataChangeProposalWrapper]) -> EmitResult: ...

    def close(self) -> None: ...


def file_record(proposal: MetadataChangeProposalWrapper, serialised: dict[Any, object]) -> dict[str, object]:
    """The record DataHub's file sink writes for an MCP (`to_obj(simplified_structure=True)`), built with
    DataHub's own aspect serialiser but without its serialise-to-string-and-parse-back round trip (3x faster;
    tests/unit/emit holds the two equal)."""
    assert proposal.aspect is not None
    return {
        "entityType": proposal.entityType,
        "entityUrn": proposal.entityUrn,
        "changeType": proposal.changeType,
        "aspectName": proposal.aspectName,
        "aspect": {"json": aspect_json(proposal.aspect, serialised)},
    }


def aspect_json(aspect: Any, serialised: dict[Any, object]) -> object:
    """An aspect's JSON. The aspects thousands of entities carry with equal values (`status`, `subTypes`, an
    empty browse path) are serialised once per `serialised` (one sink run), keyed by their value."""
    key = _same_for_many(aspect)
    if key is None:
        return pre_json_transform(aspect_to_obj(aspect))
    found = serialised.get(key)
    if found is None:
        found = serialised[key] = pre_json_transform(aspect_to_obj(aspect))
    return found


def _same_for_many(aspect: Any) -> tuple[object, ...] | None:
    if isinstance(aspect, StatusClass):
        return ("status", aspect.removed)
    if isinstance(aspect, SubTypesClass):
        return ("subTypes", *aspect.typeNames)
    if isinstance(aspect, BrowsePathsV2Class) and not aspect.path:
        return ("browsePathsV2",)
    return None


def write_records(
    out: BinaryIO, proposals: Iterable[MetadataChangeProposalWrapper], result: EmitResult, first: bool = True
) -> bool:
    """Write records separated as in one JSON array (the caller writes the brackets); True if none."""
    serialised: dict[Any, object] = {}
    for proposal in proposals:
        out.write(b"\n" if first else b",\n")
        out.write(orjson.dumps(file_record(proposal, serialised), option=orjson.OPT_INDENT_2))
        result.add(proposal)
        first = False
    return first


class FileSink:
    """A JSON array of MCPs in the layout DataHub's file sink writes (`datahub ingest` replays it).

    Written through a temporary file renamed over the target at the end: a failed or killed sync leaves the
    previous file whole, and nothing counts as delivered until the rename."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.acknowledged = EmitResult()

    def emit(self, proposals: Iterable[MetadataChangeProposalWrapper]) -> EmitResult:
        """Write the proposals as they come, one record at a time (memory does not grow with the output)."""
        result = EmitResult()
        try:
            with atomic_output(self.path, "file sink's MCPs") as out:
                out.write(b"[")
                write_records(out, proposals, result)
                out.write(b"\n]\n")
        except ConfigError as exc:
            raise SinkTerminalError(f"file sink: {exc}") from None
        self.acknowledged = result
        return result

    def close(self) -> None:
        return None


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


def open_sink(config: SinkConfig) -> Sink:
    """The configured sink, connected: a server that cannot be reached fails here, before any work is lost."""
    if config.type == "file":
        if not config.path:
            raise SinkTerminalError("file sink: no path given (--sink file:PATH).")
        return FileSink(Path(config.path))
    if config.type == "datahub-lite":
        return LiteSink(Path(config.path) if config.path else DEFAULT_LITE_PATH, config.timeout)
    if config.type == "datahub-rest":
        if not config.server:
            raise SinkTerminalError("datahub-rest sink: no server given (--sink datahub-rest:URL).")
        from bridge.emit.sink_rest import RestSink

        return RestSink(config)
    if not config.bootstrap:
        raise SinkTerminalError("datahub-kafka sink: no bootstrap servers given (--sink datahub-kafka:HOST:PORT).")
    from bridge.emit.sink_kafka import KafkaSink

    return KafkaSink(config)
