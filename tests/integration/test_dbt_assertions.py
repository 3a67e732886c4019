"""dbt tests and source freshness as assertions, the same as DataHub's own dbt source makes them: both run on
the bundled project's real artifacts (manifest and catalog of `dbt docs generate`, run_results of `dbt build`
with one test failing on purpose, sources.json of `dbt source freshness`, all on PostgreSQL).

DataHub's side: `DBTCoreSource` through a `Pipeline` into a file sink, with its default configuration
(`write_semantics: OVERRIDE`, because its default PATCH needs a DataHub server), the bridge's env and platform
instances given as its `env`, `platform_instance` (dbt's) and `target_platform_instance` (the warehouse's).
The bridge's side: `python -m bridge sync` with the same files into its file sink.

Held equal: the assertion URNs, every aspect of every assertion (assertionInfo, dataPlatformInstance, status)
and every run event, with one difference, stated exactly: a source's freshness assertion is about the source's
warehouse table, which the bridge names by the source's physical `identifier` (`raw_securities`, the table
that exists, and the one the bridge's lineage and siblings name) and DataHub's dbt source by the source's
logical name (`securities`); the bundled project's sources all set an identifier of their own.
DataHub's source runs in a subprocess: it raises deprecation warnings of its own, which pytest makes errors.
A last case changes the manifest where the bundled tests have nothing to compare: owners and a chosen name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import POSTGRES_ARTIFACTS

pytestmark = pytest.mark.integration
MANIFEST, CATALOG = POSTGRES_ARTIFACTS / "manifest.json", POSTGRES_ARTIFACTS / "catalog.json"
RUN_RESULTS, SOURCES = POSTGRES_ARTIFACTS / "run_results.json", POSTGRES_ARTIFACTS / "sources.json"
FAILING = "test.finance.assert_index_months_have_full_trading_days"
FRESHNESS = "source.finance.markets.securities"
# The bridge's configuration and DataHub's dbt source configuration that says the same.
SETTINGS = {
    "defaults": ({}, {}),
    "instances": (
        {"env": "DEV", "dbt_platform_instance": "finance-dbt", "platform_instance": "finance-pg"},
        {"env": "DEV", "platform_instance": "finance-dbt", "target_platform_instance": "finance-pg"},
    ),
}
DBT_SOURCE = """
import json, sys
from datahub.ingestion.run.pipeline import Pipeline
from datahub.ingestion.source.dbt.dbt_core import DBTCoreSource

pipeline = Pipeline.create(json.loads(sys.argv[1]))
assert isinstance(pipeline.source, DBTCoreSource), type(pipeline.source)
pipeline.run()
pipeline.raise_from_status()
"""

Records = dict[str, dict[str, list[Any]]]  # assertion URN -> aspect name -> values


def assertion_records(path: Path) -> Records:
    found: Records = {}
    for record in json.loads(path.read_text()):
        if record.get("entityUrn", "").startswith("urn:li:assertion:"):
            found.setdefault(record["entityUrn"], {}).setdefault(record["aspectName"], []).append(
                record["aspect"]["json"]
            )
    return found


def run_dbt_source(work: Path, source_config: dict[str, Any], manifest: Path = MANIFEST) -> Records:
    recipe = {
        "source": {
            "type": "dbt",
            "config": {
                "manifest_path": str(manifest),
                "catalog_path": str(CATALOG),
                "run_results_paths": [str(RUN_RESULTS)],
                "sources_path": str(SOURCES),
                "target_platform": "postgres",
                "write_semantics": "OVERRIDE",
                **source_config,
            },
        },
        "sink": {"type": "file", "config": {"filename": str(work / "dbt_source.json")}},
    }
    done = subprocess.run([sys.executable, "-c", DBT_SOURCE, json.dumps(recipe)], cwd=work, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return assertion_records(work / "dbt_source.json")


def run_bridge(work: Path, config: dict[str, Any], manifest: Path = MANIFEST) -> Records:
    (work / "bridge.yml").write_text(yaml.safe_dump(config))
    files = ["--manifest", manifest, "--catalog", CATALOG, "--run-results", RUN_RESULTS, "--sources-json", SOURCES]
    command = [sys.executable, "-m", "bridge", "sync", *map(str, files), "--config", "bridge.yml"]
    done = subprocess.run([*command, "--sink", "file:bridge.json", "--fail-on", "none"], cwd=work,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return assertion_records(work / "bridge.json")


@pytest.fixture(scope="module", params=sorted(SETTINGS))
def both(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Records, Records, str]:
    ours, theirs = SETTINGS[request.param]
    work = tmp_path_factory.mktemp(f"assertions-{request.param}")
    return run_bridge(work, ours), run_dbt_source(work, theirs), str(ours.get("env", "PROD"))


def by_dbt_id(records: Records) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for urn, aspects in records.items():
        found.setdefault(aspects["assertionInfo"][0]["customProperties"]["dbt_unique_id"], []).append(urn)
    return found


def freshness_table(env: str, name: str) -> str:
    instance = "finance-pg." if env == "DEV" else ""  # the instances setting is the one with env DEV
    return f"urn:li:dataset:(urn:li:dataPlatform:postgres,{instance}bridge_dbt.raw.{name},{env})"


def with_the_stated_difference(theirs: Records, env: str) -> Records:
    """DataHub's records, the freshness assertion's table named by the source's identifier, as the bridge does."""
    logical, physical = freshness_table(env, "securities"), freshness_table(env, "raw_securities")
    [freshness] = by_dbt_id(theirs)[FRESHNESS]
    renamed = json.loads(json.dumps(theirs[freshness]).replace(f'"{logical}"', f'"{physical}"'))
    assert renamed != theirs[freshness], "the difference is there to be stated"
    return {**theirs, freshness: renamed}


def test_the_same_assertions(both: tuple[Records, Records, str]) -> None:
    ours, theirs, _ = both
    nodes = json.loads(MANIFEST.read_text())["nodes"]
    reads = {uid: len(set(n["depends_on"]["nodes"])) for uid, n in nodes.items() if n["resource_type"] == "test"}

    assert set(ours) == set(theirs)
    # every test of the manifest, one assertion per node it reads; and the source dbt checked
    assert {dbt_id: len(urns) for dbt_id, urns in by_dbt_id(ours).items()} == reads | {FRESHNESS: 1}
    assert max(reads.values()) == 2 and reads[FAILING] == 1


def test_every_aspect_is_the_dbt_sources(both: tuple[Records, Records, str]) -> None:
    ours, theirs, env = both
    [freshness] = by_dbt_id(ours)[FRESHNESS]

    assert ours == with_the_stated_difference(theirs, env)
    assert ours[freshness]["assertionInfo"][0]["customAssertion"] == {
        "type": "dbt Freshness",
        "entity": freshness_table(env, "raw_securities"),
    }
    assert {name for aspects in ours.values() for name in aspects} == {
        "assertionInfo", "assertionRunEvent", "dataPlatformInstance", "status"
    }  # fmt: skip


def test_results_of_the_build_and_of_the_freshness_check(both: tuple[Records, Records, str]) -> None:
    ours, theirs, env = both
    results = json.loads(RUN_RESULTS.read_text())["results"]
    statuses = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("test.")}

    def events(records: Records) -> dict[str, list[tuple[str, str, str, str]]]:
        found: dict[str, list[tuple[str, str, str, str]]] = {}
        for aspects in records.values():
            dbt_id = aspects["assertionInfo"][0]["customProperties"]["dbt_unique_id"]
            for e in aspects.get("assertionRunEvent", []):
                found.setdefault(dbt_id, []).append(
                    (e["assertionUrn"], e["asserteeUrn"], e["runId"], e["result"]["type"])
                )
        return {dbt_id: sorted(found[dbt_id]) for dbt_id in found}

    assert events(ours) == events(with_the_stated_difference(theirs, env))
    assert set(statuses.values()) == {"pass", "fail"} and statuses[FAILING] == "fail"
    by_node = {dbt_id: {e[3] for e in found} for dbt_id, found in events(ours).items()}
    assert by_node == {uid: {"FAILURE" if s == "fail" else "SUCCESS"} for uid, s in statuses.items()} | {
        FRESHNESS: {"FAILURE"}  # the bundled source is stale: dbt says `error`, past its error_after
    }


def test_owners_and_chosen_names(tmp_path: Path) -> None:
    """What the bundled tests lack: a test with `meta.owner` (one, several) and a generic test given `name:`."""
    manifest = json.loads(MANIFEST.read_text())
    nodes = manifest["nodes"]
    named = next(uid for uid in nodes if uid.startswith("test.finance.unique_dim_country_"))
    owned = next(uid for uid in nodes if uid.startswith("test.finance.not_null_dim_date_"))
    nodes[named] |= {
        "name": "countries_are_listed_once",
        "meta": {"owner": ["ann@example.com", "urn:li:corpGroup:data"]},
    }
    nodes[owned]["config"]["meta"] = {"owner": "bob"}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))

    ours = run_bridge(tmp_path, {}, tmp_path / "manifest.json")
    theirs = run_dbt_source(tmp_path, {}, tmp_path / "manifest.json")

    assert ours == with_the_stated_difference(theirs, "PROD")
    titles = {a["assertionInfo"][0].get("description") for a in ours.values()}
    owners = [[o["owner"] for o in a["ownership"][0]["owners"]] for a in ours.values() if "ownership" in a]
    assert titles == {None, "countries_are_listed_once"}
    assert sorted(owners) == [["urn:li:corpGroup:data", "urn:li:corpuser:ann@example.com"], ["urn:li:corpuser:bob"]]
