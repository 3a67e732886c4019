"""dbt results -> the Cosmos task run that executed them: the node's executing task, times that meet, the
largest overlap among several, bounds where Airflow gave only one time, and results that stand alone."""

from __future__ import annotations

from bridge.join.dbt_runs import link_dbt_results
from bridge.join.pipeline import join_lineage
from bridge.join.settings import JoinSettings
from bridge.model.airflow import AirflowSnapshot, DagRun, TaskInstance
from bridge.model.dbt import DbtProject, RunResult, RunResults
from bridge.model.graph import CosmosRole, CosmosTask, DatasetKey, DbtResult, Job, JobKey, Run, RunKey
from bridge.times import epoch_us

from .conftest import cosmos, dag

MODEL = "model.finance.dim_securities"
FRED = "model.finance.fct_fred_observations"
DAG = "finance_dbt"


def job(task_id: str, node: str | None = MODEL, role: CosmosRole = "run") -> Job:
    return Job(JobKey(DAG, task_id), "DbtRunLocalOperator", dbt_unique_id=node, cosmos=CosmosTask(role, "selector"))


def task_run(task_id: str, start: int | None, end: int | None, run_id: str = "r1", map_index: int = -1) -> Run:
    status = "COMPLETE" if end is not None else "STARTED"
    return Run(run_id, DAG, task_id, "prod", status, "SUCCESS", start, end, map_index=map_index)


def dag_run(start: int | None, end: int | None, run_id: str = "r1") -> Run:
    return Run(run_id, DAG, None, "prod", "COMPLETE", "SUCCESS", start, end)


def result(start: int | None, end: int | None, unique_id: str = MODEL) -> DbtResult:
    dataset = DatasetKey("dbt", "finance.public.dim_securities") if unique_id.startswith("model.") else None
    return DbtResult("inv-1", "run", unique_id, dataset, "success", start, end, 1.0)


def parent(found: DbtResult, runs: list[Run], jobs: list[Job]) -> RunKey | None:
    (linked,) = link_dbt_results([found], runs, jobs)
    return linked.parent_run


def test_a_task_run_whose_window_holds_the_result_executed_it() -> None:
    assert parent(result(150, 180), [task_run("dim_securities.run", 100, 200)], [job("dim_securities.run")]) == (
        RunKey(DAG, "r1", "dim_securities.run")
    )


def test_windows_that_only_overlap_or_touch_meet_and_disjoint_ones_do_not() -> None:
    runs, jobs = [task_run("dim_securities.run", 100, 200)], [job("dim_securities.run")]
    assert parent(result(50, 120), runs, jobs) is not None  # overlaps the start
    assert parent(result(190, 250), runs, jobs) is not None  # overlaps the end
    assert parent(result(200, 210), runs, jobs) is not None  # touches the end
    assert parent(result(201, 250), runs, jobs) is None
    assert parent(result(10, 99), runs, jobs) is None


def test_only_a_task_executing_the_same_node_can_be_the_parent() -> None:
    runs = [task_run("other.run", 100, 200), task_run("dim_securities.test", 100, 200)]
    jobs = [job("other.run", "model.finance.other"), job("dim_securities.test", role="test")]
    assert parent(result(150, 180), runs, jobs) is None  # another node; the model's tests do not build it
    build = [job("dim_securities_model_build", role="build")]
    assert parent(result(150, 180), [task_run("dim_securities_model_build", 100, 200)], build) is not None


def test_a_task_run_without_times_matches_nothing() -> None:
    runs = [dag_run(0, 1000), task_run("dim_securities.run", None, None)]
    assert parent(result(150, 180), runs, [job("dim_securities.run")]) is None


def test_a_result_without_times_stands_alone() -> None:
    assert parent(result(None, None), [task_run("dim_securities.run", 100, 200)], [job("dim_securities.run")]) is None


def test_a_result_of_a_test_or_an_unknown_node_is_not_linked() -> None:
    runs = [task_run("dim_securities.run", 100, 200)]
    assert (
        parent(
            result(150, 180, "test.finance.not_null_x"), runs, [job("dim_securities.run", "test.finance.not_null_x")]
        )
        is None
    )
    assert parent(result(150, 180, "model.finance.nobody"), runs, [job("dim_securities.run")]) is None


def test_of_several_candidates_the_largest_overlap_wins_then_the_first_key() -> None:
    jobs = [job("dim_securities.run")]
    yesterday, today = task_run("dim_securities.run", 0, 160, "r0"), task_run("dim_securities.run", 140, 300, "r1")
    assert parent(result(150, 200), [yesterday, today], jobs) == RunKey(DAG, "r1", "dim_securities.run")
    assert parent(result(100, 150), [today, yesterday], jobs) == RunKey(DAG, "r0", "dim_securities.run")
    twins = [task_run("dim_securities.run", 100, 200, "r2"), task_run("dim_securities.run", 100, 200, "r1")]
    assert parent(result(150, 180), twins, jobs) == RunKey(DAG, "r1", "dim_securities.run")


def test_a_run_seen_finished_is_bounded_by_its_dag_runs_start_and_when_it_was_seen() -> None:
    """Airflow 3 from inside a task: a finished task's end is the moment it was seen, its start unknown."""
    jobs = [job("dim_securities.run")]
    runs = [dag_run(100, None), task_run("dim_securities.run", None, 500)]
    assert parent(result(150, 180), runs, jobs) == RunKey(DAG, "r1", "dim_securities.run")
    assert parent(result(20, 50), runs, jobs) is None  # yesterday's result: before this DAG run started
    assert parent(result(150, 180), [task_run("dim_securities.run", None, 500)], jobs) is None  # no lower bound


def test_a_running_task_run_is_open_at_the_end() -> None:
    assert parent(result(150, 10_000), [task_run("dim_securities.run", 100, None)], [job("dim_securities.run")]) == (
        RunKey(DAG, "r1", "dim_securities.run")
    )


def test_the_join_links_results_to_the_cosmos_task_run(postgres_project: DbtProject) -> None:
    cosmos_dag = dag(DAG, cosmos("dim_securities.run", "DbtRunLocalOperator", ("dim_securities.test",)),
                     cosmos("dim_securities.test", "DbtTestLocalOperator"))  # fmt: skip
    snapshot = AirflowSnapshot(
        "db", "3.1.3", None, {DAG: cosmos_dag},
        dag_runs=(DagRun(DAG, "r1", "success", "manual", start_us=epoch_us("2026-01-05T06:00:00+00:00")),),
        task_instances=(
            TaskInstance(DAG, "dim_securities.run", "r1", "success", 1, start_us=epoch_us("2026-01-05T06:00:01+00:00"),
                         end_us=epoch_us("2026-01-05T06:00:09+00:00")),
            TaskInstance(DAG, "dim_securities.test", "r1", "success", 1, start_us=epoch_us("2026-01-05T06:00:10+00:00"),
                         end_us=epoch_us("2026-01-05T06:00:19+00:00")),
        ),
    )  # fmt: skip
    results = RunResults("run_results.json", 6, "inv-1", "2026-01-05T06:00:08Z", "run", (
        RunResult(MODEL, "success", 1.5, "2026-01-05T06:00:05Z", "2026-01-05T06:00:07Z"),
        RunResult(FRED, "success", 1.0, "2026-01-05T06:00:05Z", "2026-01-05T06:00:06Z"),
    ))  # fmt: skip
    graph = join_lineage([postgres_project], snapshot, JoinSettings(), [results])
    linked = {r.unique_id: r.parent_run for r in graph.dbt_results}
    assert linked == {MODEL: RunKey(DAG, "r1", "dim_securities.run"), FRED: None}


TEST = "test.finance.not_null_dim_securities_security_id.3c608c08ef"


def test_a_tests_result_is_linked_to_the_task_that_ran_it_and_its_assertion_runs_name_it() -> None:
    from bridge.join.dbt_runs import with_task_runs
    from bridge.model.graph import Assertion, AssertionRun

    runs = [task_run("dim_securities.run", 100, 200), task_run("dim_securities.test", 200, 300)]
    jobs = [job("dim_securities.run"), job("dim_securities.test", role="test")]
    test_result = DbtResult("inv-1", "test", TEST, None, "pass", 220, 230, 0.1)
    (linked,) = link_dbt_results([test_result], runs, jobs, {TEST: (MODEL,)})
    assert linked.parent_run == RunKey(DAG, "r1", "dim_securities.test")
    (unlinked,) = link_dbt_results([test_result], runs, jobs)  # no node known for the test: alone
    assert unlinked.parent_run is None
    ran = AssertionRun("inv-1", 220, "pass", "SUCCESS")
    elsewhere = AssertionRun("inv-2", 990, "pass", "SUCCESS")  # another invocation: dbt ran it outside Airflow
    assertion = Assertion(TEST, "test", DatasetKey("dbt", "finance.public.dim_securities"), runs=(ran, elsewhere))
    (found,) = with_task_runs([assertion], [linked])
    assert [r.task_run for r in found.runs] == [RunKey(DAG, "r1", "dim_securities.test"), None]


def test_tied_windows_known_only_from_the_dag_run_and_when_seen_link_nothing() -> None:
    """Airflow 3 inside a task: two finished test tasks of the nodes a test reads both span the DAG run's
    start to the moment they were seen, so which one ran the test is unknown."""
    other = "model.finance.dim_country"
    runs = [dag_run(0, None), task_run("dim_securities.test", None, 500), task_run("dim_country.test", None, 500)]
    jobs = [job("dim_securities.test", role="test"), job("dim_country.test", other, role="test")]
    test_result = DbtResult("inv-1", "test", TEST, None, "pass", 220, 230, 0.1)
    (linked,) = link_dbt_results([test_result], runs, jobs, {TEST: (MODEL, other)})
    assert linked.parent_run is None
    timed = [dag_run(0, None), task_run("dim_securities.test", 200, 300), task_run("dim_country.test", 200, 300)]
    (linked,) = link_dbt_results([test_result], timed, jobs, {TEST: (MODEL, other)})
    assert linked.parent_run == RunKey(DAG, "r1", "dim_country.test")  # own times: the first by key


def test_of_tied_windows_without_own_starts_the_task_that_ended_first_after_dbt_ran_it() -> None:
    """Airflow 2's `dags test` records no start: every test task spans the DAG run's start to its own end."""
    other = "model.finance.dim_country"
    runs = [dag_run(0, None), task_run("dim_country.test", None, 240), task_run("dim_securities.test", None, 900)]
    jobs = [job("dim_securities.test", role="test"), job("dim_country.test", other, role="test")]
    test_result = DbtResult("inv-1", "test", TEST, None, "pass", 220, 230, 0.1)
    (linked,) = link_dbt_results([test_result], runs, jobs, {TEST: (MODEL, other)})
    assert linked.parent_run == RunKey(DAG, "r1", "dim_country.test")


def test_a_tests_result_goes_to_a_task_that_runs_that_test_not_one_that_reads_the_same_table() -> None:
    a, b = "model.p.a", "model.p.b"
    unique_a, relationships = "test.p.unique_a", "test.p.relationships_b_a"
    test = CosmosTask("test", "selector")
    jobs = [
        Job(JobKey(DAG, "x_a.test"), "DbtTestLocalOperator", dbt_unique_id=a, dbt_nodes=(a,),
            dbt_tests=(unique_a, relationships), cosmos=test),
        # b's test task runs only the relationships test, which reads a too; it never runs unique_a
        Job(JobKey(DAG, "b.test"), "DbtTestLocalOperator", dbt_unique_id=b, dbt_nodes=(a, b),
            dbt_tests=(relationships,), cosmos=test),
    ]  # fmt: skip
    # equal overlaps: by key order alone, b.test would win
    runs = [dag_run(0, 100_000), task_run("x_a.test", 10_000, 12_000), task_run("b.test", 9_000, 30_000)]
    [linked] = link_dbt_results([result(10_500, 11_500, unique_a)], runs, jobs, {unique_a: (a,), relationships: (b, a)})
    assert linked.parent_run == RunKey(DAG, "r1", "x_a.test")
