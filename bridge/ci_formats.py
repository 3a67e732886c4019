"""The run report in the forms CI systems show: JUnit XML (GitLab, Jenkins, Azure DevOps and most others list
its test cases) and GitHub Actions workflow commands (`::error title=...::...`, shown as annotations).

JUnit: one test suite, one test case per rule and subject. A problem that `--fail-on` selects is a failing
case, any other problem a passing case that carries its message; a rule with no problem at all is one passing
case, so that a CI's test count shows every rule was checked. A run that stopped before the join checked no
rule: it is one case in error, and nothing passes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from bridge.model.report import PROBLEM_CODES, Problem, RunReport

SUITE = "dbt-lineage-bridge check"
_ANNOTATION = {"error": "error", "warning": "warning", "info": "notice"}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # what XML 1.0 cannot hold


def report_as_junit(report: RunReport, fail_on: frozenset[str]) -> bytes:
    failing = set(report.failing(fail_on))
    cases: list[ET.Element] = []
    if report.failure is not None:
        case = ET.Element("testcase", classname=report.failure.code, name=_xml(report.failure.location))
        ET.SubElement(case, "error", message=_xml(report.failure.message)).text = _xml(str(report.failure))
        cases.append(case)
    for code in sorted(set(PROBLEM_CODES) - {"run-failed"}):
        found = [_case(p, p in failing) for p in report.problems if p.code == code]
        none = [] if report.failure is not None else [ET.Element("testcase", classname=code, name="(none)")]
        cases += found or none
    counts = {
        "tests": str(len(cases)),
        "failures": str(sum(1 for case in cases if case.find("failure") is not None)),
        "errors": str(sum(1 for case in cases if case.find("error") is not None)),
    }
    suite = ET.Element("testsuite", {"name": SUITE, **counts})
    suite.extend(cases)
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    root.append(suite)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"


def _case(problem: Problem, failed: bool) -> ET.Element:
    case = ET.Element("testcase", classname=problem.code, name=_xml(problem.location))
    if failed:
        failure = ET.SubElement(case, "failure", message=_xml(problem.message), type=problem.severity)
        failure.text = _xml(str(problem))
    else:
        ET.SubElement(case, "system-out").text = _xml(str(problem))
    return case


def _xml(text: str) -> str:
    """Text XML 1.0 can hold: control characters (an escape code in a name) become U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


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
