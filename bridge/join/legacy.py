"""The old connector's `cosmos_schema_mapping` (`stg_` -> `raw.staging`), compared, never used to decide."""

from __future__ import annotations

from collections.abc import Mapping

from bridge.model.dbt import DbtProject
from bridge.model.report import Problem


def legacy_prefix_problems(projects: list[DbtProject], mapping: Mapping[str, str]) -> list[Problem]:
    """One report line per model whose table the old prefix guess gets wrong."""
    problems = []
    for project in projects:
        for node in project.of_type("model"):
            guess = _guess(node.name, mapping)
            if guess is None or node.relation is None:
                continue
            actual = node.relation.dotted
            if not actual.lower().endswith(guess.lower()):
                message = f"the old prefix mapping would put it at {guess}; the manifest says {actual}"
                problems.append(Problem("legacy-guess-wrong", "info", f"model {node.unique_id}", message))
    return problems


def _guess(model_name: str, mapping: Mapping[str, str]) -> str | None:
    for prefix, target in sorted(mapping.items(), key=lambda item: -len(item[0])):
        if model_name.startswith(prefix):
            return f"{target}.{model_name}"
    return None
