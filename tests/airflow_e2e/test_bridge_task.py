"""End to end with real Airflow and real Cosmos: a Cosmos DAG with the bridge task appended runs with
`airflow dags test` (dbt really builds into the local PostgreSQL), and what the bridge task emitted from
inside the run equals what `python -m bridge sync` emits from the metadata DB that run left behind.

Each test gets its own AIRFLOW_HOME holding one DAG and a SQLite metadata DB (copied from one migrated per
release), so "that DAG's entities" are the whole of both outputs. What a task cannot know while it runs is
compared apart, each with its reason (`compare_runs`); everything else must be identical.

Every Cosmos task keeps its run_results.json (`dags/_e2e_settings.py`, Cosmos' `callback`) in a folder named
after the task run, and both sides read them: each model, seed and snapshot dbt built is a dbt
DataProcessInstance under the instance of the Cosmos task run that built it (`check_dbt_runs`).

`make e2e-airflow` runs this file alone; `make test` includes it. Each release runs on one pytest worker
(`xdist_group`), so the releases run side by side.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from datahub.api.entities.dataprocess.dataprocess_instance import DataProcessInstance

from bridge.emit.runs import instance_urn
from bridge.model.graph import RunKey
from tests.airflow_dumps import admin
from tests.airflow_e2e.environments import RELEASES, Release, ensure_environment
from tests.dbt_package.dbt_runs import PG_HOST, PG_PORT, copy_project, dbt_executable, run_dbt

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DAGS = HERE / "dags"
LOGICAL_DATE = "2026-01-05T06:00:00+00:00"
RUN_RESULTS_GLOB = "${BRIDGE_E2E_RUN_RESULTS}/**/*.json"
CLUSTER = "e2e"
BRIDGE_SETTINGS = {
    "env": "PROD",
    "airflow_cluster": CLUSTER,
    "domain_rules": {"^e2e_.*": "urn:li:domain:e2e"},
    "run_history": {"days": 36500},
    "airflow_api": {"url": "http://airflow.e2e.test:8080"},  # links only: nothing is read from it
}

pytestmark = pytest.mark.integration

RELEASE_PARAMS = [
    pytest.param(name, marks=pytest.mark.xdist_group(f"airflow-e2e-{name}"), id=name) for name in RELEASES
]


@pytest.fixture(scope="module")
def dbt_database() -> Iterator[str]:
    """A database of its own for the dbt runs of this worker, dropped afterwards."""
    name = f"bridge_e2e_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}"')
    yield name
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def dbt_setup(tmp_path_factory: pytest.TempPathFactory, dbt_database: str) -> dict[str, str]:
    """The bundled project copied, its package installed, and parsed by real dbt for the e2e database:
    the manifest Cosmos renders the DAGs from and the bridge reads (both sides)."""
    work = tmp_path_factory.mktemp("dbt")
    project = copy_project(work)
    profiles = work / "profiles"
    output = {"type": "postgres", "host": PG_HOST, "port": PG_PORT, "user": "postgres", "password": "",
              "dbname": dbt_database, "threads": 4}  # fmt: skip
    targets = {"local": {**output, "schema": "public"}, "no_raw": {**output, "schema": "no_raw"}}
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(yaml.safe_dump({"finance": {"target": "local", "outputs": targets}}))
    run_dbt(project, profiles, work, "parse")
    # Yesterday's run left its tables: the staging models read the seeds as sources (no dependency on the seed
    # tasks, as on tables an ingestion loaded), and a relationships test of one model reads another model
    # Cosmos does not order it after.
    run_dbt(project, profiles, work, "seed")
    run_dbt(project, profiles, work, "run")
    config = work / "bridge.yml"
    # The folder is each test's own (run_dag sets the variable), the bridge task substitutes it.
    config.write_text(yaml.safe_dump(BRIDGE_SETTINGS | {"dbt": {"run_results": [RUN_RESULTS_GLOB]}}))
    return {
        "BRIDGE_E2E_PROJECT": str(project),
        "BRIDGE_E2E_MANIFEST": str(work / "target" / "manifest.json"),
        "BRIDGE_E2E_PROFILES": str(profiles),
        "BRIDGE_E2E_DBT": dbt_executable(),
        "BRIDGE_E2E_CONFIG": str(config),
    }


@cache
def migrated_db(release: Release, directory: Path) -> Path:
    """A freshly migrated SQLite metadata DB of the release, made once per worker and copied per test."""
    home = directory / f"template-{release.name}"
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(release.airflow), "db", "migrate"], env=airflow_env(home, {}), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"airflow db migrate failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return home / "airflow.db"


def airflow_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "HOME")}
    return keep | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "PYTHONPATH": str(home / "dags"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **extra,
    }


def run_dag(
    release: Release, dag_id: str, home: Path, dbt: dict[str, str], emitted: Path, connection: str | None = None
) -> str:
    """`airflow dags test` of one DAG in its own AIRFLOW_HOME; the bridge task writes to `emitted` through
    a datahub-file connection (or the connection given, as JSON). Returns the command's output."""
    (home / "dags").mkdir(parents=True)
    for name in ("_e2e_settings.py", ".airflowignore", f"{dag_id}.py"):
        shutil.copy(DAGS / name, home / "dags" / name)
    connection = connection or json.dumps({"conn_type": "datahub-file", "host": str(emitted)})
    env = airflow_env(
        home, {**dbt, "AIRFLOW_CONN_DATAHUB_E2E": connection, "BRIDGE_E2E_RUN_RESULTS": str(run_results_dir(home))}
    )
    # Serialized as the scheduler's DAG processor would (Airflow 2's `dags test` does not write it).
    serialize = subprocess.run(
        [str(release.airflow), "dags", "reserialize"], env=env, capture_output=True, text=True, check=False
    )
    assert serialize.returncode == 0, f"dags reserialize failed:\n{serialize.stdout}\n{serialize.stderr}"
    done = subprocess.run(
        [str(release.airflow), "dags", "test", dag_id, LOGICAL_DATE],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return f"exit {done.returncode}\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"


def run_results_dir(home: Path) -> Path:
    """Where the Cosmos tasks of a test's run copy their run_results.json (`keep_run_results`)."""
    return home / "run_results"


def bridge_sync(home: Path, dbt: dict[str, str], out: Path) -> None:
    """`python -m bridge sync` of the metadata DB the run left, with the same settings, into a file."""
    config = dict(BRIDGE_SETTINGS) | {
        "dbt": {"manifests": [dbt["BRIDGE_E2E_MANIFEST"]], "run_results": [f"{run_results_dir(home)}/**/*.json"]},
        "airflow_db": {"url": f"sqlite:///{home / 'airflow.db'}"},
        "sink": {"type": "file", "path": str(out)},
    }
    path = out.with_suffix(".yml")
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "sync", "--config", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"bridge sync failed:\n{done.stdout}\n{done.stderr}"


# Every DAG on the newest 3.x and on 2.11; Airflow 3.1 (the Task SDK before breadcrumbs) without the
# whole-project DAG, which takes six minutes and covers nothing the other two do not there.
DAG_CASES = [
    pytest.param(name, dag_id, marks=pytest.mark.xdist_group(f"airflow-e2e-{name}"), id=f"{name}-{dag_id}")
    for name in RELEASES
    for dag_id in ("e2e_dbt_dag", "e2e_task_group", "e2e_failing")
    if not (name == "af31" and dag_id == "e2e_dbt_dag")
]


@pytest.mark.parametrize(("release_name", "dag_id"), DAG_CASES)
def test_the_bridge_task_emits_what_a_sync_of_the_run_emits(
    release_name: str, dag_id: str, dbt_setup: dict[str, str], tmp_path: Path
) -> None:
    release = ensure_environment(RELEASES[release_name])
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(migrated_db(release, tmp_path.parent), home / "airflow.db")
    emitted, synced = tmp_path / "emitted.json", tmp_path / "synced.json"

    output = run_dag(release, dag_id, home, dbt_setup, emitted)
    assert emitted.exists(), f"the bridge task wrote nothing:\n{output}"
    bridge_sync(home, dbt_setup, synced)

    from_task, from_db = by_entity(emitted), by_entity(synced)
    states = task_states(home, dag_id)
    assert states, f"the run left no task instances:\n{output}"
    assert states["datahub_lineage"] == "success", output
    if dag_id == "e2e_failing":
        assert "failed" in states.values(), states
        assert dag_run_state(home, dag_id) == "failed"  # the teardown's success does not hide dbt's failure
    else:
        assert set(states.values()) == {"success"}, states
    check_dbt_runs(from_db, home, dag_id)
    check_test_runs(from_db, home, must_have=dag_id != "e2e_failing")
    airflow3 = release_name.startswith("af3")
    compare_links(from_task, from_db, airflow3)
    compare_runs(from_task, from_db, dag_id, airflow3, durations=release_name != "af31")
    compare_flow(from_task, from_db, dag_id, airflow3)
    assert from_task == from_db


# --- reading the outputs --------------------------------------------------------------------------------------

Records = dict[tuple[str, str], list[Any]]


def by_entity(path: Path) -> Records:
    """(entity URN, aspect name) -> the aspects written, in order (run events are several per entity)."""
    found: Records = {}
    for record in json.loads(path.read_text()):
        found.setdefault((record["entityUrn"], record["aspectName"]), []).append(record["aspect"]["json"])
    return found


def task_states(home: Path, dag_id: str) -> dict[str, str]:
    import sqlite3

    with sqlite3.connect(home / "airflow.db") as db:
        rows = db.execute("SELECT task_id, state FROM task_instance WHERE dag_id = ?", (dag_id,)).fetchall()
    return dict(rows)


def dag_run_state(home: Path, dag_id: str) -> str:
    import sqlite3

    with sqlite3.connect(home / "airflow.db") as db:
        (state,) = db.execute("SELECT state FROM dag_run WHERE dag_id = ?", (dag_id,)).fetchone()
    return str(state)


DATASET = "urn:li:dataset:"


def flow_urn(dag_id: str) -> str:
    return f"urn:li:dataFlow:(airflow,{dag_id},{CLUSTER})"


def dpi_parents(records: Records) -> dict[str, str]:
    """Airflow's DPI URN -> the flow or job it is a run of (dbt executions, instances of datasets, apart)."""
    return {
        urn: aspects[0]["parentTemplate"]
        for (urn, name), aspects in records.items()
        if name == "dataProcessInstanceRelationships"
        and not (aspects[0].get("parentTemplate") or "").startswith(DATASET)
    }


def job_urn(dag_id: str, task_id: str) -> str:
    return f"urn:li:dataJob:({flow_urn(dag_id)},{task_id})"


def check_dbt_runs(records: Records, home: Path, dag_id: str) -> None:
    """Each model, seed and snapshot in the run_results the Cosmos tasks kept is a dbt DataProcessInstance
    named as DataHub's dbt source names it (`<invocation_id>_<the node's dbt dataset URN>`, no cluster), an
    instance of the node's dbt dataset whose parent is the instance of the
    task run that kept the file (named by it: <dag_id>/<run_id>/<task_id>/<map_index>.<try>.<random>.json),
    with dbt's start, end and status (one without times, if any, stands alone); nothing else is a dbt
    instance."""
    folder = run_results_dir(home)
    dbt_urns = {  # unique_id -> its dbt entity, as emitted
        aspects[0]["customProperties"]["dbt_unique_id"]: urn
        for (urn, name), aspects in records.items()
        if name == "datasetProperties" and urn.startswith(f"{DATASET}(urn:li:dataPlatform:dbt,")
    }
    expected: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for path in sorted(folder.glob("*/*/*/*.json")):
        found_dag, run_id, task_id = path.relative_to(folder).parts[:3]
        task = RunKey(found_dag, run_id, task_id, int(path.name.split(".")[0]), CLUSTER)
        assert found_dag == dag_id and (str(instance_urn(task)), "dataProcessInstanceRelationships") in records
        document = json.loads(path.read_text())
        for result in document["results"]:
            if result["unique_id"].split(".")[0] in ("model", "seed", "snapshot"):
                dbt_id = f"{document['metadata']['invocation_id']}_{dbt_urns[result['unique_id']]}"
                urn = str(DataProcessInstance(id=dbt_id, orchestrator="dbt", cluster=None).urn)
                timed = any(t.get("completed_at") for t in result["timing"])
                expected[urn] = (str(instance_urn(task)) if timed else None, result)
    assert expected, f"no Cosmos task kept a model's run_results in {folder}"
    dbt_instances = {
        urn
        for (urn, name), aspects in records.items()
        if name == "dataProcessInstanceRelationships" and (aspects[0].get("parentTemplate") or "").startswith(DATASET)
    }
    assert dbt_instances == set(expected)
    for urn, (parent, result) in expected.items():
        (relationships,) = records[(urn, "dataProcessInstanceRelationships")]
        assert relationships.get("parentInstance") == parent, (result["unique_id"], relationships)
        assert relationships["parentTemplate"].startswith(f"{DATASET}(urn:li:dataPlatform:dbt,")
        (properties,) = records[(urn, "dataProcessInstanceProperties")]
        assert properties["customProperties"]["status"] == result["status"]
        if parent is None:
            continue
        end = records[(urn, "dataProcessInstanceRunEvent")][-1]
        assert end["status"] == "COMPLETE"
        assert end["result"]["type"] == ("FAILURE" if result["status"] == "error" else "SUCCESS"), (urn, end)
    if dag_id == "e2e_failing":
        assert any(r["status"] == "error" for _, r in expected.values()), "stg_employees failed in dbt"


def check_test_runs(records: Records, home: Path, must_have: bool) -> None:
    """Every assertion run of a dbt invocation a Cosmos task kept (one file per task try) names that task run
    in its runtimeContext (a test reading two models is two assertions, both named); `must_have`: the DAG ran
    tests (the failing DAG's tests are never reached)."""
    folder = run_results_dir(home)
    ran_in: dict[str, str] = {}
    for path in sorted(folder.glob("*/*/*/*.json")):
        dag_id, run_id, task_id = path.relative_to(folder).parts[:3]
        task = RunKey(dag_id, run_id, task_id, int(path.name.split(".")[0]), CLUSTER)
        ran_in[json.loads(path.read_text())["metadata"]["invocation_id"]] = str(instance_urn(task))
    events = [e for (_, name), found in records.items() if name == "assertionRunEvent" for e in found]
    kept = [e for e in events if e["runId"] in ran_in]
    for event in kept:
        assert (event.get("runtimeContext") or {}).get("airflowTaskRun") == ran_in[event["runId"]], event
    assert kept or not must_have, f"no test result kept in {folder}"


# --- what a running task cannot know, compared apart ---------------------------------------------------------


def compare_runs(from_task: Records, from_db: Records, dag_id: str, airflow3: bool, durations: bool = True) -> None:
    """Run events, states and creation times: checked here, then removed from both sides.

    - What was still running when the task looked (the DAG run, the bridge task itself, and tasks that are
      not upstream of it, which may run beside or after it): the task sends the events it had seen so far
      (their start, or nothing), the DB has the rest; their state and creation time are known later.
    - Airflow 3 gives task code the other finished tasks' states and durations, not their times: the task
      sends one end event per finished task, at the moment it looked (after the real end), with the same
      result and duration; the DB has their start and end events.
    - Airflow 2 gives task code the whole DagRun: there a finished task's events are identical.
    - A task not upstream of the bridge task that had not finished when it looked: on Airflow 3 it is not in
      what the Task SDK lists, so the task sends no run of it.
    """
    parents = dpi_parents(from_db)
    upstream = ancestors(from_db, job_urn(dag_id, "datahub_lineage"))
    for urn in set(parents) - set(dpi_parents(from_task)):
        # Airflow 3 lists finished tasks only: one that ran after the bridge task was not seen at all.
        assert airflow3 and parents[urn] not in upstream | {job_urn(dag_id, "datahub_lineage")}, parents[urn]
        for key in [key for key in from_db if key[0] == urn]:
            del from_db[key]
        del parents[urn]
    assert set(parents) == set(dpi_parents(from_task)), "the task sent runs the DB does not have"
    for urn, parent in parents.items():
        key = (urn, "dataProcessInstanceRunEvent")
        task_events, db_events = from_task.pop(key, []), from_db.pop(key, [])
        assert db_events and db_events[-1]["status"] == "COMPLETE", (urn, db_events)
        finished = parent in upstream or any(e["status"] == "COMPLETE" for e in task_events)
        if not finished:
            assert task_events == db_events[: len(task_events)] and len(task_events) < len(db_events), urn
            _drop_unfinished(from_task, from_db, urn)
        elif airflow3:
            _compare_seen(task_events, db_events, urn, durations)
            _drop_created(from_task, from_db, urn, durations)
        else:
            assert task_events == db_events, urn


def _compare_seen(task_events: list[Any], db_events: list[Any], urn: str, durations: bool) -> None:
    """One end event, seen after the real end, otherwise the DB's end event (result, attempt, ...). Its
    duration is Airflow's own where the Task SDK gives it (3.2+), else absent."""
    (seen,) = task_events
    end = dict(db_events[-1])
    assert seen["timestampMillis"] >= end["timestampMillis"], (urn, "seen after it ended")
    if durations and "durationMillis" in end:  # the DB's from start and end; the task's from Airflow's duration
        assert abs(seen["durationMillis"] - end["durationMillis"]) <= 1, (urn, seen, end)
        end["durationMillis"] = seen["durationMillis"]
    else:
        assert "durationMillis" not in seen, (urn, seen)
        end.pop("durationMillis", None)
    assert seen == {**end, "timestampMillis": seen["timestampMillis"]}, (urn, seen, end)


def ancestors(records: Records, job: str) -> set[str]:
    """The jobs upstream of `job`, transitively, from the jobs' input jobs."""
    inputs = {urn: aspects[0].get("inputDatajobs", []) for (urn, name), aspects in records.items()
              if name == "dataJobInputOutput"}  # fmt: skip
    found: set[str] = set()
    todo = list(inputs.get(job, []))
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += inputs.get(current, [])
    return found


def _drop_unfinished(from_task: Records, from_db: Records, urn: str) -> None:
    """A run's state property (`running`, or none yet, where the DB later says how it ended), its duration
    (known when it ends), its try number where Airflow 3 does not tell it, and its creation time (its start, or
    unknown)."""
    (task_properties,) = from_task[(urn, "dataProcessInstanceProperties")]
    told_try = "try_number" in task_properties["customProperties"]
    for side in (from_task, from_db):
        (properties,) = side[(urn, "dataProcessInstanceProperties")]
        properties["customProperties"].pop("state", None)
        properties["customProperties"].pop("duration", None)
        if not told_try:
            properties["customProperties"].pop("try_number", None)
        properties.pop("created")


def _drop_created(from_task: Records, from_db: Records, urn: str, durations: bool) -> None:
    """A finished task seen from inside a task on Airflow 3: no try number (the Task SDK does not give it),
    Airflow's duration where it gives one (3.2+, equal to the DB's to the millisecond), and the creation time."""
    (task_properties,) = from_task[(urn, "dataProcessInstanceProperties")]
    (db_properties,) = from_db[(urn, "dataProcessInstanceProperties")]
    seen, stored = task_properties["customProperties"], db_properties["customProperties"]
    assert "try_number" not in seen, (urn, seen)
    stored.pop("try_number", None)
    if durations and "duration" in stored:
        assert abs(float(seen.pop("duration")) - float(stored.pop("duration"))) <= 0.002, urn
    else:
        assert "duration" not in seen, (urn, seen)
        stored.pop("duration", None)
    for properties in (task_properties, db_properties):
        properties.pop("created")


def compare_links(from_task: Records, from_db: Records, airflow3: bool) -> None:
    """dbt results linked to the Cosmos task run that ran them: the same on both sides, except that on Airflow 3
    the task cannot tell apart task runs it knows only as finished (a test several test tasks ran), so there a
    link may be missing (never different); the DB side's is then dropped."""
    for (urn, name), db_aspects in from_db.items():
        task_aspects = from_task.get((urn, name), [])
        if name == "assertionRunEvent":
            pairs = [(t, d, "runtimeContext") for t, d in zip(task_aspects, db_aspects, strict=True)]
        elif name == "dataProcessInstanceRelationships" and db_aspects[0]["parentTemplate"].startswith(DATASET):
            pairs = [(task_aspects[0], db_aspects[0], "parentInstance")]
        else:
            continue
        for task_side, db_side, link in pairs:
            if task_side.get(link) != db_side.get(link):
                assert airflow3 and task_side.get(link) is None, (urn, link, task_side, db_side)
                db_side.pop(link)


def compare_flow(from_task: Records, from_db: Records, dag_id: str, airflow3: bool) -> None:
    """Airflow 3 numbers each serialized version of a DAG; task code is not told the number."""
    (db_flow,) = from_db[(flow_urn(dag_id), "dataFlowInfo")]
    (task_flow,) = from_task[(flow_urn(dag_id), "dataFlowInfo")]
    assert "version_number" not in task_flow["customProperties"]
    assert ("version_number" in db_flow["customProperties"]) == airflow3
    db_flow["customProperties"].pop("version_number", None)


@pytest.mark.parametrize("release_name", RELEASE_PARAMS)
def test_add_bridge_task_appends_a_teardown_after_the_last_dbt_tasks(
    release_name: str, dbt_setup: dict[str, str], tmp_path: Path
) -> None:
    """After a DbtDag, after a DbtTaskGroup and inside one: downstream of the last dbt tasks, never upstream of
    what follows the group, with the manifest Cosmos rendered from."""
    release = ensure_environment(RELEASES[release_name])
    env = airflow_env(tmp_path, dbt_setup)
    done = subprocess.run(
        [str(release.python), str(HERE / "placement.py")], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    for placement, group in (("dag", None), ("after_group", None), ("inside_group", "fred")):
        task = found[placement]
        assert task["teardown"] and task["trigger_rule"] == "all_done_setup_success", task
        assert task["manifest"] == found["expected_manifest"] == dbt_setup["BRIDGE_E2E_MANIFEST"]
        assert task["group"] == group
    assert found["dag"]["upstream"] == found["dag"]["leaves_before"] != []
    for placement in ("after_group", "inside_group"):
        task = found[placement]
        assert task["upstream"] == task["group_leaves"] == ["fred.fct_fred_observations.test"], task
        assert task["publish_upstream"] == task["group_leaves"], "the task after the group waits for dbt only"


@pytest.mark.parametrize("release_name", RELEASE_PARAMS)
def test_a_failed_emission_fails_the_bridge_task_alone_and_never_shows_the_token(
    release_name: str, dbt_setup: dict[str, str], tmp_path: Path
) -> None:
    """A datahub-rest connection with a token, to a port nothing listens on: the bridge task fails with a line
    that says why; the dbt tasks keep their own states; the token is in no output and no task log."""
    release = ensure_environment(RELEASES[release_name])
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(migrated_db(release, tmp_path.parent), home / "airflow.db")
    token = f"e2e-token-{uuid.uuid4().hex}"
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    port = closed.getsockname()[1]
    connection = json.dumps({"conn_type": "datahub-rest", "host": f"http://127.0.0.1:{port}", "password": token})
    config = tmp_path / "bridge.yml"
    config.write_text(yaml.safe_dump(BRIDGE_SETTINGS | {"sink": {"max_retries": 0, "timeout": 5}}))
    dbt = dbt_setup | {"BRIDGE_E2E_CONFIG": str(config)}
    try:
        output = run_dag(release, "e2e_failing", home, dbt, tmp_path / "unused.json", connection)
    finally:
        closed.close()
    states = task_states(home, "e2e_failing")
    assert states["datahub_lineage"] == "failed", output
    assert states["stg_employees.run"] == "failed", states  # dbt's own failure, unchanged by the bridge task
    logs = "".join(p.read_text(errors="replace") for p in home.rglob("*.log"))
    assert "the lineage sync failed" in output + logs and "127.0.0.1" in output + logs, output
    assert token not in output and token not in logs
