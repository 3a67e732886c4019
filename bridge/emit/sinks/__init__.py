"""Where MCPs go: a file `datahub ingest` can replay (`file`), DataHub Lite, the embedded default (`lite`), a
DataHub server over REST (`rest`), or Kafka (`kafka`). Every sink counts what it sent, by aspect; errors say
whether a retry can help. `open_sink` picks one; each module imports only what its sink needs."""

from __future__ import annotations

from pathlib import Path

from bridge.config import SinkConfig
from bridge.emit.sinks.base import EmitResult, Sink, aspect_json, file_record, write_records
from bridge.emit.sinks.file import FileSink
from bridge.emit.sinks.lite import DEFAULT_LITE_PATH, LiteSink
from bridge.errors import SinkTerminalError

__all__ = ["DEFAULT_LITE_PATH", "EmitResult", "FileSink", "LiteSink", "Sink", "aspect_json", "file_record",
           "open_sink", "write_records"]  # fmt: skip


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
        from bridge.emit.sinks.rest import RestSink

        return RestSink(config)
    if not config.bootstrap:
        raise SinkTerminalError("datahub-kafka sink: no bootstrap servers given (--sink datahub-kafka:HOST:PORT).")
    from bridge.emit.sinks.kafka import KafkaSink

    return KafkaSink(config)
