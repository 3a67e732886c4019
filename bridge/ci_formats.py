"""The run report in the forms CI systems show: JUnit XML (GitLab, Jenkins, Azure DevOps and most others list
its test cases) and GitHub Actions workflow commands (`::error title=...::...`, shown as annotations).

JUnit: one test suite, one test case per rule and subject. A problem that `--fail-on` selects is a failing
case, any other problem a passing case that carries its message; a rule with no problem at all is one passing
case, so that a CI's test count shows every rule was checked.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bridge.model.report import PROBLEM_CODES, Problem, RunReport

SUITE = "dbt-lineage-bridge check"
_ANNOTATION = {"error": "error", "warning": "warning", "info": "notice"}


def report_as_junit(report: RunReport, fail_on: frozenset[str]) -> bytes:
    failing = set(report.failing(fail_on))
    cases: list[ET.Element] = []
    for code in sorted(set(PROBLEM_CODES) - {"run-failed"}):
        found = [p for p in report.problems if p.code == code]
        cases += [_case(p, p in failing) for p in found] or [ET.Element("testcase", classname=code, name="(none)")]
    if report.failure is not None:
        cases.append(_case(report.failure, failed=True))
    suite = ET.Element(
        "testsuite",
        name=SUITE,
        tests=str(len(cases)),
        failures=str(sum(1 for c in cases if c.find("failure") is not None)),
    )
    suite.extend(cases)
    root = ET.Element("testsuites", name=SUITE, tests=suite.get("tests", "0"), failures=suite.get("failures", "0"))
    root.append(suite)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"


def _case(problem: Problem, failed: bool) -> ET.Element:
    case = ET.Element("testcase", classname=problem.code, name=problem.location)
    if failed:
        failure = ET.SubElement(case, "failure", message=problem.message, type=problem.severity)
        failure.text = str(problem)
    else:
        ET.SubElement(case, "system-out").text = str(problem)
    return case


def report_as_github(report: RunReport, fail_on: frozenset[str]) -> str:
    """One workflow command per problem: `error` for what fails the run, else by severity."""
    failing = set(report.failing(fail_on))
    problems = [*report.problems, *([report.failure] if report.failure else [])]
    lines = []
    for problem in problems:
        level = "error" if problem in failing or problem is report.failure else _ANNOTATION[problem.severity]
        title = _property(f"{problem.code}: {problem.location}")
        lines.append(f"::{level} title={title}::{_data(problem.message)}")
    return "".join(f"{line}\n" for line in lines)


def _data(text: str) -> str:
    """Escaped as GitHub's workflow commands require for the message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
