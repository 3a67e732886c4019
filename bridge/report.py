"""The run report, for people (text) and for CI (JSON)."""

from __future__ import annotations

from collections import Counter

import orjson

from bridge.model.graph import LineageGraph
from bridge.model.report import RunReport

DEFAULT_FAIL_ON = frozenset({"error"})


def build_report(graph: LineageGraph, emitted: dict[str, int]) -> RunReport:
    cosmos = [j for j in graph.jobs if "cosmos_role" in j.properties]
    matched = sum(1 for j in cosmos if j.dbt_unique_id or j.properties["cosmos_role"] == "project-test")
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
    }
    return RunReport(counts=counts, emitted=dict(sorted(emitted.items())), problems=graph.problems)


def report_as_json(report: RunReport, fail_on: frozenset[str]) -> bytes:
    document = {
        "ok": not report.failing(fail_on),
        "fail_on": sorted(fail_on),
        "counts": report.counts,
        "emitted": report.emitted,
        "problems": [
            {"code": p.code, "severity": p.severity, "location": p.location, "message": p.message}
            for p in report.problems
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


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
    lines.append(f"FAILED: {len(failing)} problem(s) match --fail-on {','.join(sorted(fail_on))}" if failing else "ok")
    return "\n".join(lines) + "\n"
