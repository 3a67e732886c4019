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
