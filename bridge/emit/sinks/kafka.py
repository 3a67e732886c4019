"""Kafka, through acryl-datahub's own `DatahubKafkaEmitter` (the optional extra `dbt-lineage-bridge[kafka]`).

What we pin, and why:
- `acks=all` and `enable.idempotence=true`: an MCP counts once every in-sync replica has it, and librdkafka's
  own retries never write it twice.
- `message.timeout.ms` = `timeout`: a broker that does not take a message fails its delivery within the
  timeout, not after librdkafka's default of 5 minutes; DataHub's flush waits a little longer than that.
- The schema registry client (it registers the MCP Avro schema on first use) retries `max_retries` times.
- The brokers are asked for their metadata when the sink opens (`list_topics`, within `timeout`): brokers that
  are down fail the sync there, in `timeout` seconds, with one error.
- librdkafka's own log lines go to Python logging (`bridge.emit.sinks.kafka.librdkafka`), which does not pass
  them on: a broker that is down is said once, by the sink's error, not as a line per reconnect attempt.
  Attach a handler to that logger to see them.

`EmitResult` counts what the broker acknowledged, from the delivery callbacks. Since confluent-kafka 2.16 the
Avro serializer asks the broker for its cluster id before the schema registry, and waits up to 60 s for it
(not configurable through DataHub's emitter); the metadata request at open is what keeps a sync whose brokers
are down from waiting that minute.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from datahub.emitter.mcp import MetadataChangeProposalWrapper

from bridge.config import SinkConfig
from bridge.emit.sinks.base import EmitResult
from bridge.errors import SinkError, SinkTerminalError, SinkTransientError

DEFAULT_SCHEMA_REGISTRY_URL = "http://localhost:8081"
FLUSH_MARGIN_S = 5.0  # DataHub's flush outlasts message.timeout.ms, so every delivery has reported by then
# Delivery errors a retry will not cure (librdkafka's names); the rest (timeouts, brokers down) are transient.
TERMINAL_KAFKA_ERRORS = frozenset({
    "TOPIC_AUTHORIZATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED", "SASL_AUTHENTICATION_FAILED", "_AUTHENTICATION",
    "MSG_SIZE_TOO_LARGE", "_MSG_SIZE_TOO_LARGE", "UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC", "INVALID_RECORD",
    "_INVALID_ARG", "_SSL",
})  # fmt: skip
# The codes confluent-kafka wraps a serializer's own failure in; the reason is the error inside them.
SERIALIZATION_WRAPPERS = frozenset({"_VALUE_SERIALIZATION", "_KEY_SERIALIZATION"})
LIBRDKAFKA_LOG = logging.getLogger(__name__ + ".librdkafka")
LIBRDKAFKA_LOG.addHandler(logging.NullHandler())
LIBRDKAFKA_LOG.propagate = False


def kafka_emitter_settings(config: SinkConfig) -> dict[str, Any]:
    """What `KafkaEmitterConfig` receives: plain data, so it can be read and tested before anything connects."""
    return {
        "connection": {
            "bootstrap": config.bootstrap,
            "schema_registry_url": config.schema_registry_url or DEFAULT_SCHEMA_REGISTRY_URL,
            "schema_registry_config": {
                "timeout": config.timeout,
                "max.retries": config.max_retries,
                "retries.wait.ms": int(config.retry_backoff * 1000),
            },
            "producer_config": {
                "acks": "all",
                "enable.idempotence": True,
                "message.timeout.ms": int(config.timeout * 1000),
                "logger": LIBRDKAFKA_LOG,
            },
        },
        "max_queue_full_block_seconds": config.timeout + FLUSH_MARGIN_S,
    }


def import_kafka_emitter() -> tuple[Any, Any]:
    """DataHub's Kafka emitter and its config class; a clear error when the extra is not installed."""
    try:
        from datahub.emitter.kafka_emitter import DatahubKafkaEmitter, KafkaEmitterConfig
    except ImportError as exc:
        raise SinkTerminalError(
            f"datahub-kafka needs the Kafka extra, which is not installed ({exc}). "
            "Install it: pip install 'dbt-lineage-bridge[kafka]'."
        ) from exc
    return DatahubKafkaEmitter, KafkaEmitterConfig


class KafkaSink:
    """MCPs produced to DataHub's MCP topic; see the module docstring for what is pinned and why."""

    def __init__(self, config: SinkConfig) -> None:
        emitter_class, config_class = import_kafka_emitter()
        self.where = f"datahub-kafka {config.bootstrap}"
        self.acknowledged = EmitResult()
        try:
            self.settings = config_class.model_validate(kafka_emitter_settings(config))
        except ValueError as exc:  # pydantic's ValidationError: DataHub checks HOST:PORT[,HOST:PORT]
            problems = "; ".join(str(error["msg"]) for error in exc.errors())  # type: ignore[attr-defined]
            raise SinkTerminalError(f"{self.where}: {problems}. Check sink.bootstrap (HOST:PORT,...).") from None
        self.where += f" (schema registry {self.settings.connection.schema_registry_url})"
        try:
            self.emitter = emitter_class(self.settings)
        except Exception as exc:  # confluent_kafka.KafkaException for a setting librdkafka rejects
            raise SinkTerminalError(f"{self.where}: cannot create the producer ({exc}).") from exc
        self._check_brokers(config.timeout)

    def _check_brokers(self, timeout: float) -> None:
        """Ask the brokers for their metadata: brokers that are down fail here, within `timeout`."""
        for producer in self.emitter.producers.values():
            try:
                producer.list_topics(timeout=timeout)
            except Exception as exc:  # confluent_kafka.KafkaException: _TRANSPORT, _TIMED_OUT, auth errors
                error = SinkTerminalError if is_terminal(exc.args[0] if exc.args else None) else SinkTransientError
                raise error(
                    f"{self.where}: no broker answered within {timeout:g} s ({send_reason(exc)}). Check "
                    "sink.bootstrap and that the brokers run, then retry (or raise sink.timeout)."
                ) from None

    def emit(self, proposals: Iterable[MetadataChangeProposalWrapper]) -> EmitResult:
        result = self.acknowledged = EmitResult()
        deliveries = Deliveries(result)
        for proposal in proposals:
            try:
                self.emitter.emit(proposal, deliveries.callback(proposal))
            except Exception as exc:  # serialisation, schema registry, a full queue, an oversized message
                self.emitter.flush_with_undelivered_count()  # so the counts below are final
                raise self._send_error(proposal, exc, result) from exc
        undelivered = self.emitter.flush_with_undelivered_count()
        if deliveries.failed or undelivered:
            raise self._delivery_error(deliveries, undelivered, result)
        return result

    def close(self) -> None:
        self.emitter.flush()

    def _send_error(self, proposal: MetadataChangeProposalWrapper, exc: Exception, done: EmitResult) -> SinkError:
        transient = is_transient_send_error(exc)
        error = SinkTransientError if transient else SinkTerminalError
        return error(
            f"{self.where}: cannot send {proposal.entityUrn} {proposal.aspectName} ({send_reason(exc)}); "
            f"{acknowledged(done)}. " + ("Retry later." if transient else "A retry will not help.")
        )

    def _delivery_error(self, deliveries: Deliveries, undelivered: int, done: EmitResult) -> SinkError:
        first = deliveries.first_failure
        detail = f"first: {first[0]} {first[1]} ({first[2]})" if first else "no delivery report came back"
        error = SinkTerminalError if first and is_terminal(first[3]) else SinkTransientError
        return error(
            f"{self.where}: {deliveries.failed} aspects were not delivered and {undelivered} still queued after "
            f"the timeout ({detail}); {acknowledged(done)}."
        )


class Deliveries:
    """Delivery reports: acknowledged MCPs go into the result, failures are counted (the first one kept)."""

    def __init__(self, result: EmitResult) -> None:
        self.result = result
        self.failed = 0
        self.first_failure: tuple[str | None, str | None, str, Any] | None = None

    def callback(self, proposal: MetadataChangeProposalWrapper) -> Callable[[Any, Any], None]:
        def delivered(error: Any, message: Any) -> None:
            if error is None:
                self.result.add(proposal)
                return
            self.failed += 1
            if self.first_failure is None:
                self.first_failure = (proposal.entityUrn, proposal.aspectName, str(error)[:300], error)

        return delivered


def is_transient_send_error(exc: BaseException) -> bool:
    """Whether producing one MCP may succeed later: a full queue, the schema registry's 429/5xx, a network
    error, or a retriable Kafka error inside the serializer's wrapper; anything else is terminal."""
    chain = exception_chain(exc)
    if any(isinstance(seen, BufferError) for seen in chain):
        return True
    statuses = [status for seen in chain if isinstance(status := getattr(seen, "http_status_code", None), int)]
    if statuses:  # the schema registry answered (confluent's SchemaRegistryError)
        return statuses[0] in (408, 429) or statuses[0] >= 500
    inner = inner_kafka_error(chain)
    if inner is not None:
        return not is_terminal(inner)
    return any(isinstance(seen, OSError) or "TransportError" in {c.__name__ for c in type(seen).__mro__}
               for seen in chain)  # fmt: skip


def send_reason(exc: BaseException) -> str:
    """The innermost Kafka error if there is one ('_TIMED_OUT: Failed to retrieve cluster id: ...'), not the
    serializer's wrapper around it."""
    inner = inner_kafka_error(exception_chain(exc))
    if inner is not None:
        return f"{inner.name()}: {inner.str()[:300]}"
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def inner_kafka_error(chain: list[BaseException]) -> Any:
    """The last librdkafka `KafkaError` (carried as an exception's first argument) that is not a wrapper."""
    errors = [seen.args[0] for seen in chain if seen.args and callable(getattr(seen.args[0], "name", None))]
    inner = [error for error in errors if error.name() not in SERIALIZATION_WRAPPERS]
    return inner[-1] if inner else None


def exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 20:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


def is_terminal(error: Any) -> bool:
    """A KafkaError a retry cannot cure; unknown errors (no KafkaError) count as transient."""
    if not callable(getattr(error, "name", None)):
        return False
    return bool(error.fatal()) or error.name() in TERMINAL_KAFKA_ERRORS


def acknowledged(done: EmitResult) -> str:
    return f"{sum(done.counts.values())} aspects were acknowledged before it"
