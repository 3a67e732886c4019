"""The datahub-kafka sink, through DataHub's own DatahubKafkaEmitter, against what this machine really has: no
Kafka broker and no schema registry listen on 127.0.0.1 (nothing on 9092 or 8081), and none is faked. So these
tests hold what needs no broker: the message when the extra is missing, the settings DataHub's
KafkaEmitterConfig receives (and the real producers built from them), refused settings, how delivery reports
are counted (with librdkafka's own error values), and the error an unreachable broker gives. Emitting to a
broker and reading the MCPs back is not tested here."""

from __future__ import annotations

import socket
import sys

import confluent_kafka
import pytest
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import StatusClass

from bridge.config import SinkConfig
from bridge.emit.sink_kafka import Deliveries, is_terminal, is_transient_send_error, kafka_emitter_settings
from bridge.emit.sinks import EmitResult, open_sink
from bridge.errors import SinkTerminalError, SinkTransientError

STATUS = MetadataChangeProposalWrapper(
    entityUrn="urn:li:dataset:(urn:li:dataPlatform:dbt,analytics.marts.securities,PROD)", aspect=StatusClass(False)
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def kafka(bootstrap: str, **settings: object) -> SinkConfig:
    return SinkConfig.model_validate({"type": "datahub-kafka", "bootstrap": bootstrap, **settings})


def test_without_the_extra_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)  # as if `pip install` had not added it
    monkeypatch.delitem(sys.modules, "datahub.emitter.kafka_emitter", raising=False)
    with pytest.raises(SinkTerminalError, match=r"needs the Kafka extra.*pip install 'dbt-lineage-bridge\[kafka\]'"):
        open_sink(kafka("127.0.0.1:9092"))


def test_the_settings_datahubs_kafka_emitter_receives() -> None:
    config = kafka("broker-1:9092,broker-2:9092", schema_registry_url="http://registry:8081", timeout=20.0,
                   max_retries=2, retry_backoff=0.5)  # fmt: skip
    settings = kafka_emitter_settings(config)
    assert settings["connection"]["producer_config"].pop("logger").name == "bridge.emit.sink_kafka.librdkafka"
    assert settings == {
        "connection": {
            "bootstrap": "broker-1:9092,broker-2:9092",
            "schema_registry_url": "http://registry:8081",
            "schema_registry_config": {"timeout": 20.0, "max.retries": 2, "retries.wait.ms": 500},
            "producer_config": {"acks": "all", "enable.idempotence": True, "message.timeout.ms": 20000},
        },
        "max_queue_full_block_seconds": 25.0,
    }


def test_datahubs_emitter_is_built_from_them() -> None:
    sink = open_sink(kafka(f"127.0.0.1:{free_port()}"))  # creating producers does not connect
    connection = sink.settings.connection  # type: ignore[attr-defined]
    assert connection.schema_registry_url == "http://localhost:8081"  # the default we pass, not DataHub's env
    assert connection.producer_config["acks"] == "all" and connection.producer_config["enable.idempotence"]
    assert set(sink.emitter.producers) == {"MetadataChangeEvent", "MetadataChangeProposal"}  # type: ignore[attr-defined]


@pytest.mark.parametrize("bootstrap", ["http://broker:9092", "broker:ninety-two"])
def test_a_malformed_bootstrap_is_terminal(bootstrap: str) -> None:
    with pytest.raises(SinkTerminalError, match=f"datahub-kafka {bootstrap}: .*Check sink.bootstrap"):
        open_sink(kafka(bootstrap))


def test_delivery_reports_count_only_acknowledged_mcps() -> None:
    kafka_error = confluent_kafka.KafkaError
    result = EmitResult()
    deliveries = Deliveries(result)
    deliveries.callback(STATUS)(None, object())
    deliveries.callback(STATUS)(kafka_error(kafka_error._MSG_TIMED_OUT), None)
    assert result.counts == {"status": 1} and deliveries.failed == 1
    assert deliveries.first_failure is not None and deliveries.first_failure[:2] == (STATUS.entityUrn, "status")
    assert not is_terminal(kafka_error(kafka_error._MSG_TIMED_OUT))  # the broker may come back
    assert is_terminal(kafka_error(kafka_error.TOPIC_AUTHORIZATION_FAILED))
    assert is_terminal(kafka_error(kafka_error.MSG_SIZE_TOO_LARGE))


def test_send_errors_are_classified_by_the_error_inside_the_serializers_wrapper() -> None:
    confluent = confluent_kafka
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    timed_out = confluent.KafkaException(confluent.KafkaError(confluent.KafkaError._TIMED_OUT))
    wrapper = confluent.error.ValueSerializationError(confluent.KafkaError(confluent.KafkaError._VALUE_SERIALIZATION))
    wrapper.__cause__ = timed_out
    assert is_transient_send_error(wrapper)
    assert is_transient_send_error(BufferError("Local: Queue full"))
    assert not is_transient_send_error(SchemaRegistryError(409, 409, "Schema being registered is incompatible"))
    assert is_transient_send_error(SchemaRegistryError(503, 50003, "unavailable"))


def test_an_unreachable_broker_is_transient_and_named() -> None:
    """Slow by nature: confluent-kafka's serializer waits 60 s for the broker's cluster id (not configurable
    through DataHub's emitter) before it gives up on the first MCP."""
    port = free_port()
    sink = open_sink(kafka(f"127.0.0.1:{port}", schema_registry_url=f"http://127.0.0.1:{port}", timeout=2.0))
    with pytest.raises(SinkTransientError) as caught:
        sink.emit([STATUS])
    message = str(caught.value)
    assert message.startswith(f"datahub-kafka 127.0.0.1:{port} (schema registry http://127.0.0.1:{port}): ")
    assert f"cannot send {STATUS.entityUrn} status (_TIMED_OUT: Failed to retrieve cluster id" in message
    assert "0 aspects were acknowledged before it. Retry later." in message
    assert sink.acknowledged.counts == {}  # type: ignore[attr-defined]
    sink.close()
