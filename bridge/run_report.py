"""Making the run report of a sync (`build_report`), and showing it for people (text) and for CI (JSON);
`--fail-on` rules. What a report holds is `bridge.model.report`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import orjson

from bridge.errors import BridgeError, ConfigError, SinkError, SourceError
from bridge.model.graph import LineageGraph
from bridge.model.report import PROBLEM_CODES, SEVERITIES, Problem, RunReport

DEFAULT_FAIL_ON = "error"  # `--fail-on` when not given: any problem of severity error fails the run


def parse_fail_on(text: str) -> frozenset[str]:
    """`--fail-on`: comma-separated problem codes and severities, or `none` (problems never fail the run)."""
    rules = frozenset(rule.strip().lower() for rule in text.split(",") if rule.strip())
    if not rules:
        raise ConfigError("--fail-on: no rule given. Name codes or severities, or `none`.")
    if "none" in rules:
        if len(rules) > 1:
            raise ConfigError("--fail-on: `none` cannot be combined with other rules.")
        return frozenset()
    known = sorted(set(PROBLEM_CODES) - {"run-failed"})  # a failed run exits 2 or 3 whatever --fail-on says
    unknown = sorted(rules - set(known) - set(SEVERITIES))
    if unknown:
        raise ConfigError(
            f"--fail-on: unknown {'rule' if len(unknown) == 1 else 'rules'} {', '.join(unknown)}. Known: none, "
            f"the severities {', '.join(SEVERITIES)}, and the codes {', '.join(known)}."
        )
    return rules


def failure_problem(error: BaseException) -> Problem:
    """What stopped a sync, as the report's `failure`: where it happened and the error's own message."""
    if isinstance(error, KeyboardInterrupt):
        return Problem("run-failed", "error", "interrupted", "the sync was interrupted")
    if not isinstance(error, BridgeError):
        return Problem("run-failed", "error", "internal", f"internal error ({type(error).__name__}): {error}")
    stage = "sink" if isinstance(error, SinkError) else "source" if isinstance(error, SourceError) else "input"
    return Problem("run-failed", "error", stage, str(error))


def redact_report(report: RunReport, redact: Callable[[str], str]) -> RunReport:
    """The report with every location and message passed through `redact` (the last guard before it is shown
    or written)."""

    def redacted(problem: Problem) -> Problem:
        return replace(problem, location=redact(problem.location), message=redact(problem.message))

    failure = redacted(report.failure) if report.failure else None
    return replace(report, problems=tuple(redacted(p) for p in report.problems), failure=failure)


def build_report(
    graph: LineageGraph | None, emitted: dict[str, int], failure: BaseException | None = None
) -> RunReport:
    """Counts of what was read and joined (zero before the join), what was delivered, and the problems."""
    problem = failure_problem(failure) if failure is not None else None
    if graph is None:
        return RunReport(counts=dict.fromkeys(COUNTS, 0), emitted=emitted, problems=(), failure=problem)
    cosmos = [j.cosmos for j in graph.jobs if j.cosmos is not None]
    matched = sum(1 for task in cosmos if task.matched)
    counts = {
        "datasets": len(graph.datasets),
        "dbt_datasets": sum(1 for d in graph.datasets if d.key.platform == "dbt"),
        "dags": len(graph.flows),
        "tasks": len(graph.jobs),
        "cosmos_tasks": len(cosmos),
        "cosmos_tasks_matched": matched,
        "cosmos_tasks_unmatched": len(cosmos) - matched,
        "domains": len(graph.domains),
        "runs": len(graph.runs),
        "dbt_results": len(graph.dbt_results),
        "assertions": len(graph.assertions),
    }
    return RunReport(counts=counts, emitted=dict(sorted(emitted.items())), problems=graph.problems, failure=problem)


COUNTS = ("datasets", "dbt_datasets", "dags", "tasks", "cosmos_tasks", "cosmos_tasks_matched",
          "cosmos_tasks_unmatched", "domains", "runs", "dbt_results", "assertions")  # fmt: skip


def report_as_json(report: RunReport, fail_on: frozenset[str]) -> bytes:
    document = {
        "ok": not report.failing(fail_on) and report.failure is None,
        "fail_on": sorted(fail_on),
        "counts": report.counts,
        "emitted": report.emitted,
        "problems": [_problem_json(p) for p in report.problems],
        "failure": _problem_json(report.failure) if report.failure else None,
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def _problem_json(problem: Problem) -> dict[str, str]:
    return {"code": problem.code, "severity": problem.severity, "location": problem.location,
            "message": problem.message}  # fmt: skip


def plural(count: int, noun: str) -> str:
    """`1 DAG`, `6 DAGs`, `1,745 aspects`."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def report_as_text(report: RunReport, fail_on: frozenset[str]) -> str:
    counts = report.counts
    lines = [
        f"read: {counts['dbt_datasets']} dbt nodes, {counts['dags']} DAGs, {counts['tasks']} tasks",
        f"cosmos tasks: {counts['cosmos_tasks_matched']} of {counts['cosmos_tasks']} matched to a dbt node",
        f"emitted: {sum(report.emitted.values())} aspects"
        + (f" ({', '.join(f'{k} {v}' for k, v in report.emitted.items())})" if report.emitted else ""),
    ]
    by_severity = Counter(p.severity for p in report.problems)
    lines.append("problems: " + (", ".join(f"{n} {s}" for s, n in sorted(by_severity.items())) or "none"))
    lines += [f"  {p}" for p in report.problems]
    failing = report.failing(fail_on)
    if report.failure is not None:
        lines.append(f"FAILED: the sync stopped ({report.failure.location}); what is above is how far it got")
    elif failing:
        lines.append(f"FAILED: {len(failing)} problem(s) match --fail-on {','.join(sorted(fail_on)) or 'none'}")
    else:
        lines.append("ok")
    return "\n".join(lines) + "\n"
