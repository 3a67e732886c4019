"""Requests per REST read, counted on the replayed recordings: a fixed number of paged listings plus two per DAG
(its details and its tasks, which have no bulk form), one per DAG with `dag_details: false` (its tasks; the
versions of all DAGs in one listing); runs and task instances come through two batch listings, so more of them
add pages, never a request per run."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from bridge.config import AirflowApiConfig
from bridge.model.airflow import AirflowSnapshot
from bridge.read.airflow_api.history import LOOK_BACK_RUNS
from bridge.read.airflow_api.reader import read_airflow_api
from tests.fakes.airflow_api import FakeAirflow, serve

EVERY_RUN = "2000-01-01T00:00:00Z"
# version (on v1 also the 404 of the v2 probe), then one page each of: DAGs, runs, task instances, assets,
# asset events, import errors, connections, variables
FIXED = {"af211": 10, "af313": 9, "af33": 9}
PER_DAG = 2  # details (doc_md, version) and tasks
RUNS, INSTANCES = "/dags/~/dagRuns/list", "/dags/~/dagRuns/~/taskInstances/list"


def prefix(release: str) -> str:
    return "/api/v1" if release == "af211" else "/api/v2"


def read(fake: FakeAirflow, since: str | None, page_size: int = 100, dag_details: bool = True) -> AirflowSnapshot:
    with serve(fake):
        config = AirflowApiConfig(url=fake.url, page_size=page_size, dag_details=dag_details)
        return read_airflow_api(config, since=since)


@pytest.mark.parametrize("since", [EVERY_RUN, None], ids=["history", "no-history"])
@pytest.mark.parametrize("release", sorted(FIXED))
def test_a_fixed_number_of_listings_plus_two_requests_per_dag(release: str, since: str | None) -> None:
    fake = FakeAirflow(release)
    snapshot = read(fake, since)
    assert len(snapshot.dags) == 6
    if since is not None:
        assert (len(snapshot.dag_runs), len(snapshot.task_instances)) == (8, 75)
    # 22 requests on af211 (34 before the batch listings), 21 on af313 and af33 (33 before)
    assert len(fake.requests) == FIXED[release] + PER_DAG * len(snapshot.dags)
    per_dag = [path for _, path, _ in fake.requests if path.endswith(("/details", "/tasks"))]
    assert len(per_dag) == PER_DAG * len(snapshot.dags)
    history = [path for _, path, _ in fake.requests if "/dagRuns" in path]
    assert history == [prefix(release) + RUNS, prefix(release) + INSTANCES]


@pytest.mark.parametrize("release", sorted(FIXED))
def test_thirty_times_the_runs_add_pages_not_requests_per_run(release: str) -> None:
    page_size, copies = 100, 30
    fake = FakeAirflow(release)
    runs, instances = copied_history(fake, copies)
    snapshot = read(fake, EVERY_RUN, page_size)
    assert (len(snapshot.dag_runs), len(snapshot.task_instances)) == (8 * copies, 75 * copies) == (240, 2250)
    extra_pages = math.ceil(len(runs) / page_size) - 1 + math.ceil(len(instances) / page_size) - 1  # 2 + 22
    assert len(fake.requests) == FIXED[release] + PER_DAG * len(snapshot.dags) + extra_pages
    assert extra_pages < len(runs) - 8  # 24 pages more for 232 runs more


@pytest.mark.parametrize("release", sorted(FIXED))
def test_pages_are_ordered_by_a_unique_key_where_the_api_takes_one(release: str) -> None:
    fake = FakeAirflow(release)
    read(fake, EVERY_RUN, page_size=3)
    runs = [body for path, body in fake.posted if path.endswith(RUNS)]
    instances = [body for path, body in fake.posted if path.endswith(INSTANCES)]
    # each next page from the previous page's last item (the overlap that sees a listing move), one longer: as
    # many requests as pages without the overlap (3 and 25)
    assert [b["page_offset"] for b in runs] == [0, 2, 5] and {b["order_by"] for b in runs} == {"id"}
    assert [b["page_limit"] for b in runs] == [3, 4, 4]
    assert [b["page_offset"] for b in instances] == [0, *range(2, 72, 3)] and len(instances) == 25
    # Airflow 2's task-instance listing answers 400 to `order_by`: there the reader keeps each item once
    assert {b.get("order_by") for b in instances} == {None if release == "af211" else "id"}


@pytest.mark.parametrize("release", sorted(FIXED))
def test_the_watermark_and_the_dags_are_filtered_by_the_server(release: str) -> None:
    fake = FakeAirflow(release)
    snapshot = read(fake, "2026-01-06T00:00:00Z")
    (runs, *older_runs), (instances, *older_instances) = (
        [b for p, b in fake.posted if p.endswith(name)] for name in (RUNS, INSTANCES)
    )
    assert runs["start_date_gte"] == "2026-01-06T00:00:00+00:00" and sorted(runs["dag_ids"]) == sorted(snapshot.dags)
    # the template values of the tasks that did not run in the window: from the runs before it, newest first
    assert older_runs and all(b["order_by"] == "-id" and "start_date_gte" not in b for b in older_runs)
    assert older_instances and all("dag_run_ids" in b for b in older_instances)
    assert {r.dag_id for r in snapshot.dag_runs} == {"ingest_markets", "finance_reporting"}
    run_time = "execution_date_gte" if release == "af211" else "run_after_gte"
    assert set(instances) == {"dag_ids", run_time, "page_offset", "page_limit"} | (
        set() if release == "af211" else {"order_by"}
    )
    runs_read = {(run.dag_id, run.run_id) for run in snapshot.dag_runs}
    assert {(ti.dag_id, ti.run_id) for ti in snapshot.task_instances} == runs_read
    [events] = [query for _, path, query in fake.requests if path.endswith("/events")]
    assert ("timestamp_gte" in events) == (release != "af211")  # Airflow 2.11 answers 400 to it


def test_without_history_the_newest_run_of_each_dag_is_asked_for_by_id_then_older_ones() -> None:
    """The runs newest first (`order_by: -id`, served so here), then in rounds each DAG's newest unread run, as
    long as a task has rendered nothing yet: ingest_markets' latest run failed before `load_index_prices` ran."""
    fake = FakeAirflow("af33")
    listed = fake.routes[("POST", "/api/v2" + RUNS)]["dag_runs"]
    fake.set_listing("/api/v2" + RUNS, "dag_runs", listed[::-1], method="POST")  # as `-id` orders them
    snapshot = read(fake, None)
    [runs] = [body for path, body in fake.posted if path.endswith(RUNS)]
    assert runs["order_by"] == "-id" and "start_date_gte" not in runs
    newest, before = [body for path, body in fake.posted if path.endswith(INSTANCES)]
    assert len(newest["dag_run_ids"]) == 6 and "run_after_gte" not in newest
    first, second = [run for run in listed if run["dag_id"] == "finance_reporting"]
    assert first["start_date"] < second["start_date"]
    assert second["dag_run_id"] in newest["dag_run_ids"] and first["dag_run_id"] not in newest["dag_run_ids"]
    assert before["dag_ids"] == ["ingest_markets"] and len(before["dag_run_ids"]) == 1
    build = snapshot.dags["finance_marts_pipeline"].tasks["transform.stg_securities_model_build"]
    assert build.template_fields["select"] == "fqn:finance.staging.markets.stg_securities"
    load = snapshot.dags["ingest_markets"].tasks["load_index_prices"]
    assert load.template_values_known and load.template_fields["bash_command"] == "echo loading index prices"
    assert snapshot.dag_runs == () and snapshot.task_instances == ()


def test_a_listing_that_moves_between_pages_is_read_again_whole() -> None:
    """Airflow 2 cannot order task instances: a row moving while pages are read is seen by the pages' overlap,
    and the listing is read again from its start, so none is missed or read twice."""
    fake = FakeAirflow("af211")
    route = ("POST", "/api/v1" + INSTANCES)

    def move_the_last_to_the_front(method: str, path: str) -> None:
        listed = fake.routes[route]["task_instances"]
        if path == route[1] and len(fake.posted) == 2:  # after the first page of task instances
            fake.routes[route] = {**fake.routes[route], "task_instances": listed[-1:] + listed[:-1]}

    fake.after_request = move_the_last_to_the_front
    snapshot = read(fake, EVERY_RUN, page_size=50)
    assert len(snapshot.task_instances) == 75
    assert len({(t.dag_id, t.run_id, t.task_id, t.map_index) for t in snapshot.task_instances}) == 75
    assert [b["page_offset"] for p, b in fake.posted if p == route[1]] == [0, 49, 0, 49]
    assert not [p.message for p in snapshot.problems if "task_instances" in p.message]


def copied_history(fake: FakeAirflow, copies: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The recorded runs and task instances `copies` times, each copy's runs with run ids of their own."""
    api = prefix(fake.release)
    runs = fake.routes[("POST", api + RUNS)]["dag_runs"]
    instances = fake.routes[("POST", api + INSTANCES)]["task_instances"]
    many_runs = [{**run, "dag_run_id": f"{run['dag_run_id']}.{n}"} for n in range(copies) for run in runs]
    many_instances = [{**ti, "dag_run_id": f"{ti['dag_run_id']}.{n}"} for n in range(copies) for ti in instances]
    fake.set_listing(api + RUNS, "dag_runs", many_runs, method="POST")
    fake.set_listing(api + INSTANCES, "task_instances", many_instances, method="POST")
    return many_runs, many_instances


@pytest.mark.parametrize("release", sorted(FIXED))
def test_without_dag_details_a_read_costs_one_request_per_dag(release: str) -> None:
    with_details = read(FakeAirflow(release), EVERY_RUN)
    fake = FakeAirflow(release)
    snapshot = read(fake, EVERY_RUN, dag_details=False)
    versions = 1 if release != "af211" else 0  # Airflow 3: every DAG's versions in one listing
    assert len(fake.requests) == FIXED[release] + versions + 1 * len(snapshot.dags)
    assert not [path for _, path, _ in fake.requests if path.endswith("/details")]
    # the same DAGs, tasks, versions and runs; only the documentation, which only the details hold, is missing
    assert {d: dag.version_number for d, dag in snapshot.dags.items()} == {
        d: dag.version_number for d, dag in with_details.dags.items()
    }
    assert all(dag.doc_md is None for dag in snapshot.dags.values())
    assert any(dag.doc_md for dag in with_details.dags.values())
    strip = {d: replace(dag, doc_md=None) for d, dag in with_details.dags.items()}
    assert snapshot.dags == strip and snapshot.task_instances == with_details.task_instances
    assert any("dag_details" in note for note in snapshot.limitations)


def test_the_look_back_stops_after_the_runs_that_can_still_hold_rendered_fields() -> None:
    """No task instance rendered anything (say every run failed early): each DAG's newest `LOOK_BACK_RUNS` runs
    are looked at, as Airflow keeps rendered fields for no more, a run per DAG in each round; then the read goes
    on without the values."""
    fake = FakeAirflow("af33")
    runs, instances = copied_history(fake, 40)  # 40 or 80 runs of each DAG
    not_rendered = [{**ti, "rendered_fields": {}} for ti in instances]
    fake.set_listing("/api/v2" + INSTANCES, "task_instances", not_rendered, method="POST")
    snapshot = read(fake, None)
    rounds = [body for path, body in fake.posted if path.endswith(INSTANCES)]
    looked_at = Counter(
        run["dag_id"]
        for body in rounds
        for run in runs
        if run["dag_id"] in body["dag_ids"] and run["dag_run_id"] in body["dag_run_ids"]
    )
    assert looked_at == dict.fromkeys(snapshot.dags, LOOK_BACK_RUNS)
    assert all(len(body["dag_run_ids"]) <= len(snapshot.dags) for body in rounds)  # one run per DAG a round
    unknown = [t for dag in snapshot.dags.values() for t in dag.tasks.values() if not t.template_values_known]
    assert len(unknown) > 50 and not any(task.template_fields for task in unknown)


def test_a_dag_whose_task_never_rendered_does_not_make_the_look_back_read_other_dags_runs() -> None:
    """One task of one DAG never rendered (a branch always skips it): its DAG's older runs are looked at, and
    the runs of the DAGs that have all their values are not listed page after page."""
    fake = FakeAirflow("af33")
    _, instances = copied_history(fake, 60)
    api = prefix(fake.release)
    never = ("finance_fred", "fct_fred_observations_run")
    rendered = [{**ti, "rendered_fields": {}} if (ti["dag_id"], ti["task_id"]) == never else ti for ti in instances]
    fake.set_listing(api + INSTANCES, "task_instances", rendered, method="POST")
    snapshot = read(fake, None, page_size=25)
    listings = [body for path, body in fake.posted if path.endswith(RUNS)]
    others = [body for body in listings if body["dag_ids"] != ["finance_fred"]]
    assert len(others) <= 3  # the first listing of every DAG, before the others had their values
    assert len(listings) - len(others) <= math.ceil(LOOK_BACK_RUNS * 2 / 25) + 1  # that DAG's newest runs only
    assert not snapshot.dags["finance_fred"].tasks["fct_fred_observations_run"].template_values_known
