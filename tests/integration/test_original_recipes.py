"""The original connector's two recipes (tests/fixtures/original_recipes), changed only in `type:` and the
added manifest, run through both ways in: the real `datahub ingest` CLI and `python -m bridge sync --config`.
Both deliver the same records to the recipe's own sink, and each original key has the effect it had:

local (metadata DB + basic auth, file sink): env DEV in every dataset URN; platform_instance is the Airflow
  instance (the cluster of flows and runs); process_instance_max_runs caps runs per DAG; capture_* and
  emit_process_instances on give runs and assets; domain_pattern_mapping searches the dag_id, ignoring case,
  first rule first; airflow_url makes the links.
prod (REST API behind Keycloak, no DB, DataHub REST sink with a token): the token comes from Keycloak's
  token endpoint with the client credentials; metadata_db_enabled false reads no DB; capture_assets false
  leaves every asset out; emit_process_instances false emits no run; the GMS receives the records with the
  recipe's token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import POSTGRES_ARTIFACTS, REPO
from tests.fakes.airflow_api import FakeAirflow
from tests.fakes.airflow_api import serve as serve_airflow
from tests.fakes.gms import FakeGms
from tests.fakes.gms import serve as serve_gms

pytestmark = pytest.mark.integration
RECIPES = REPO / "tests" / "fixtures" / "original_recipes"
DATAHUB = str(Path(sys.executable).with_name("datahub"))
GMS_TOKEN = "gms-token-77c1aa09e5"
DATAHUB_RUN_REPORTS = ("urn:li:dataHubIngestionSource:", "urn:li:dataHubExecutionRequest:")


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip
    assert done.returncode == 0, f"{command}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


def both_ways(recipe: str, work: Path, env: dict[str, str], outputs: tuple[str, str]) -> None:
    """`datahub ingest` with the recipe's sink set to outputs[0], `bridge sync --config` with outputs[1]."""
    run([DATAHUB, "ingest", "-c", str(RECIPES / recipe)], work, env | {"OUT_FILE": outputs[0]})
    run([sys.executable, "-m", "bridge", "sync", "--config", str(RECIPES / recipe), "--fail-on", "none"], work,
        env | {"OUT_FILE": outputs[1]})  # fmt: skip


def asset_outputs(found: list[dict[str, Any]]) -> list[str]:
    """What the ingest DAGs' tasks write: only their asset outlets say so."""
    return [
        urn
        for r in found
        if r["aspectName"] == "dataJobInputOutput" and "(airflow,ingest_" in r["entityUrn"]
        for urn in r["aspect"]["json"].get("outputDatasets", [])
    ]


def records(path: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(path.read_text())
    for record in found:
        record.pop("systemMetadata", None)
    return found


@pytest.fixture
def fake_api() -> Iterator[FakeAirflow]:
    with serve_airflow(FakeAirflow("af33", auth="oidc")) as fake:
        yield fake


def test_the_local_recipe(restored: dict[str, str], tmp_path: Path) -> None:
    db = urlsplit(restored["af33"])
    env = {
        "AIRFLOW_URL": "http://airflow.local:8080",
        "AIRFLOW_PASSWORD": "admin-password",
        "METADATA_DB_HOST": db.hostname or "",
        "METADATA_DB_PORT": str(db.port),
        "METADATA_DB_NAME": db.path.lstrip("/"),
        "METADATA_DB_USER": db.username or "",
        "DBT_MANIFEST": str(POSTGRES_ARTIFACTS / "manifest.json"),
    }
    both_ways("airflow_local.yml", tmp_path, env, ("ingested.json", "synced.json"))

    synced = records(tmp_path / "synced.json")
    assert records(tmp_path / "ingested.json") == synced
    urns = {r["entityUrn"] for r in synced}
    datasets = {u for u in urns if u.startswith("urn:li:dataset:")}
    assert datasets and all(u.endswith(",DEV)") for u in datasets)  # env
    flows = {u for u in urns if u.startswith("urn:li:dataFlow:")}
    assert flows and all(u.endswith(",airflow-local)") for u in flows)  # platform_instance: the Airflow instance
    runs: dict[str, int] = {}  # DAG runs (a task run has a parent instance) per flow
    for r in synced:
        relations = r["aspect"]["json"] if r["aspectName"] == "dataProcessInstanceRelationships" else {}
        if relations and not relations.get("parentInstance"):
            runs[relations["parentTemplate"]] = runs.get(relations["parentTemplate"], 0) + 1
    # capture_executions and emit_process_instances on; the dump has 2 runs of ingest_markets, the cap keeps 1
    assert runs and max(runs.values()) == 1 and len(runs) >= 5
    assert asset_outputs(synced)  # capture_assets: the ingest DAGs' outlets are their tasks' outputs
    domains = {r["entityUrn"]: r["aspect"]["json"]["domains"] for r in synced if r["aspectName"] == "domains"}
    assert domains["urn:li:dataFlow:(airflow,finance_fred,airflow-local)"] == ["urn:li:domain:economic-research"]
    assert domains["urn:li:dataFlow:(airflow,ingest_fred,airflow-local)"] == ["urn:li:domain:economic-research"]
    assert domains["urn:li:dataFlow:(airflow,ingest_markets,airflow-local)"] == ["urn:li:domain:ingestion"]
    links = [r["aspect"]["json"].get("externalUrl") for r in synced if r["aspectName"] == "dataFlowInfo"]
    assert links and all(str(link).startswith("http://airflow.local:8080/") for link in links)


def test_the_prod_recipe(fake_api: FakeAirflow, tmp_path: Path) -> None:
    gms_ways = []
    for way in ("ingest", "sync"):
        with serve_gms(FakeGms(tokens={GMS_TOKEN})) as gms:
            env = {
                "AIRFLOW_URL": fake_api.url,
                "KEYCLOAK_SERVER": fake_api.url,
                "KEYCLOAK_CLIENT_SECRET": fake_api.client_secret,
                "DBT_MANIFEST": str(POSTGRES_ARTIFACTS / "manifest.json"),
                "DATAHUB_GMS": gms.url,
                "DATAHUB_TOKEN": GMS_TOKEN,
            }
            requests_before = fake_api.token_requests
            command = (
                [DATAHUB, "ingest", "-c", str(RECIPES / "airflow_prod.yml")]
                if way == "ingest"
                else [
                    sys.executable,
                    "-m",
                    "bridge",
                    "sync",
                    "--config",
                    str(RECIPES / "airflow_prod.yml"),
                    "--fail-on",
                    "none",
                ]
            )
            run(command, tmp_path, env)
            assert fake_api.token_requests > requests_before  # Keycloak's client-credentials token was used
            assert gms.applied and all(r.authorization == f"Bearer {GMS_TOKEN}" for r in gms.batches)
            # DataHub's pipeline also reports its own run to GMS (ingestion source, execution request): not ours
            ours = [(u, a, v) for r in gms.applied for u, a, v in r.mcps if not u.startswith(DATAHUB_RUN_REPORTS)]
            gms_ways.append(set(ours))
    ingested, synced = gms_ways
    assert ingested == synced and len(synced) > 300
    keycloak = [p for m, p, _ in fake_api.requests if p.endswith("/protocol/openid-connect/token")]
    assert keycloak and all(p == "/realms/data-platform/protocol/openid-connect/token" for p in keycloak)
    urns = {urn for urn, _, _ in synced}
    aspects = {aspect for _, aspect, _ in synced}
    assert not any(a.startswith("dataProcessInstance") for a in aspects)  # emit_process_instances: false
    assert not any("dataPlatform:airflow," in u for u in urns)  # capture_assets: false
    written = [(u, json.loads(v)) for u, a, v in synced if a == "dataJobInputOutput" and "(airflow,ingest_" in u]
    assert written and not [out for _, io in written for out in io.get("outputDatasets", [])]
    assert all(u.endswith(",airflow-prod)") for u in urns if u.startswith("urn:li:dataFlow:"))
    domains = {urn: json.loads(value)["domains"] for urn, aspect, value in synced if aspect == "domains"}
    assert domains["urn:li:dataFlow:(airflow,ingest_markets,airflow-prod)"] == ["urn:li:domain:markets"]
