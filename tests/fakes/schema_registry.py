"""A Confluent-compatible schema registry on 127.0.0.1, holding schemas in memory: what confluent-kafka 2.16's
`SchemaRegistryClient` calls when DataHub's Kafka emitter (its `AvroSerializer`) produces MCPs and an
`AvroDeserializer` reads them back.

- `POST /subjects/{subject}/versions`: register `{"schema", "schemaType"?, "references"?}` under the subject,
  answer `{"id": N}`. The same schema gets the same id under every subject (ids are global, as in Confluent's
  registry) and registering it again under a subject adds no version. A schema that is not valid Avro is
  refused with 422 / error code 42201, as the real registry does.
- `GET /schemas/ids/{id}`: `{"schema"}`, or 404 / 40403.
- Everything else, among it `GET /associations/resources/{namespace}/{topic}` (the associated subject-name
  strategy, confluent-kafka 2.16's default, asks it first and falls back to `<topic>-value` on 404):
  404 / error code 404, what a registry without that API answers.

Errors have the registry's shape, `{"error_code", "message"}`. Every request is recorded (method, path, status).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

import fastavro

from tests.fakes.local_http import serving

SCHEMA_NOT_FOUND = 40403
INVALID_SCHEMA = 42201


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with its query
    status: int


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def error(status: int, code: int, message: str) -> Answer:
    return Answer(status, {"error_code": code, "message": message})


def schema_key(body: dict[str, Any]) -> str:
    """What makes two registered schemas the same one: its text, type and references."""
    return json.dumps([body.get("schema"), body.get("schemaType") or "AVRO", body.get("references") or []])


def avro_problem(body: dict[str, Any]) -> str | None:
    """Why the schema is not one the registry accepts, or None."""
    if (body.get("schemaType") or "AVRO") != "AVRO":
        return f"only AVRO schemas are held here, not {body.get('schemaType')}"
    if body.get("references"):
        return "schema references are not supported here"
    try:
        fastavro.parse_schema(json.loads(body["schema"]))
    except (KeyError, TypeError, ValueError, fastavro.schema.SchemaParseException) as exc:
        return f"Invalid schema: {exc}"
    return None


@dataclass
class FakeSchemaRegistry:
    schemas: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> the registered body
    ids: dict[str, int] = field(default_factory=dict)  # schema_key -> id
    subjects: dict[str, list[int]] = field(default_factory=dict)  # subject -> schema id of each version
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, target: str, body: bytes) -> Answer:
        parts = [unquote(part) for part in urlsplit(target).path.strip("/").split("/")]
        with self.lock:
            if method == "POST" and len(parts) == 3 and parts[0] == "subjects" and parts[2] == "versions":
                answer = self.register(parts[1], body)
            elif method == "GET" and len(parts) == 3 and parts[:2] == ["schemas", "ids"] and parts[2].isdigit():
                answer = self.schema_by_id(int(parts[2]))
            else:
                answer = error(404, 404, "HTTP 404 Not Found")
            self.requests.append(Request(method, target, answer.status))
        return answer

    def register(self, subject: str, body: bytes) -> Answer:
        try:
            schema = json.loads(body)
        except ValueError:
            return error(400, 400, "Unrecognized request body")
        if not isinstance(schema, dict):
            return error(400, 400, "Unrecognized request body")
        problem = avro_problem(schema)
        if problem is not None:
            return error(422, INVALID_SCHEMA, problem)
        key = schema_key(schema)
        schema_id = self.ids.get(key)
        if schema_id is None:
            schema_id = self.ids[key] = len(self.ids) + 1
            self.schemas[schema_id] = {name: schema[name] for name in ("schema", "schemaType") if name in schema}
        versions = self.subjects.setdefault(subject, [])
        if schema_id not in versions:
            versions.append(schema_id)
        return Answer(200, {"id": schema_id})

    def schema_by_id(self, schema_id: int) -> Answer:
        if schema_id not in self.schemas:
            return error(404, SCHEMA_NOT_FOUND, "Schema not found")
        return Answer(200, dict(self.schemas[schema_id]))


def handler_for(registry: FakeSchemaRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads `registry.requests`."""

        def answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            found = registry.handle(method, self.path, self.rfile.read(length) if length else b"")
            payload = json.dumps(found.body).encode()
            self.send_response(found.status)
            self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self.answer("GET")

        def do_POST(self) -> None:
            self.answer("POST")

        def do_PUT(self) -> None:
            self.answer("PUT")

        def do_DELETE(self) -> None:
            self.answer("DELETE")

    return Handler


@contextmanager
def schema_registry() -> Iterator[FakeSchemaRegistry]:
    """A fresh registry served until the block ends; its base URL is `registry.url`."""
    registry = FakeSchemaRegistry()
    with serving(handler_for(registry)) as url:
        registry.url = url
        yield registry
