"""The run report: problems found while reading and joining, with where they are, for people and for CI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem, e.g. code `unmatched-cosmos-task` at `dag finance_dbt, task stg_x_run`."""

    code: str
    severity: Severity
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.location}: {self.message} [{self.code}]"


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one sync read, joined and emitted, and every problem it found, with where it is."""

    counts: dict[str, int]
    emitted: dict[str, int]  # MCPs by aspect name
    problems: tuple[Problem, ...]

    def failing(self, fail_on: frozenset[str]) -> list[Problem]:
        """The problems that fail the run: those whose code or severity is named in `fail_on`."""
        return [p for p in self.problems if p.code in fail_on or p.severity in fail_on]
