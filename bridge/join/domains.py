"""Domains, in this precedence (first that applies wins):

    dbt node:  meta.datahub.domain > meta.domain > dbt group > path/fqn rule > schema rule
    DAG:       dag_id rule > the one domain its dbt models agree on (several: a reported conflict, none set)
    task:      its dbt model's domain > its DAG's domain
    other asset datasets: the domain of the DAG that produces them, when the producers agree

A domain is written as an id (`fred`) or a URN (`urn:li:domain:fred`); both mean the same domain. A dbt
node's warehouse table takes the node's domain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bridge.join.settings import JoinSettings
from bridge.model.dbt import DbtNode
from bridge.model.report import Problem

DOMAIN_URN_PREFIX = "urn:li:domain:"


def domain_id(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().removeprefix(DOMAIN_URN_PREFIX)


def first_rule_match(rules: Mapping[str, str], *subjects: str) -> str | None:
    """The domain of the first rule (in the order given) whose regex matches any subject in full."""
    for pattern, domain in rules.items():
        if any(re.fullmatch(pattern, subject) for subject in subjects if subject):
            return domain_id(domain)
    return None


def node_domain(node: DbtNode, settings: JoinSettings) -> str | None:
    datahub_meta = node.meta.get("datahub")
    candidates = (
        datahub_meta.get("domain") if isinstance(datahub_meta, Mapping) else None,
        node.meta.get("domain"),
        node.group,
    )
    for candidate in candidates:
        found = domain_id(candidate)
        if found:
            return found
    by_path = first_rule_match(settings.path_domain_rules, node.original_file_path, ".".join(node.fqn))
    schema = node.location.schema if node.location else ""
    return by_path or first_rule_match(settings.schema_domain_rules, schema)


def agreed_domain(
    location: str, rule_domain: str | None, member_domains: Iterable[str | None]
) -> tuple[str | None, Problem | None]:
    """A rule's domain, else the single domain the members agree on; a disagreement is a problem."""
    if rule_domain:
        return rule_domain, None
    found = sorted({d for d in member_domains if d})
    if len(found) == 1:
        return found[0], None
    if not found:
        return None, None
    message = f"its dbt models belong to several domains ({', '.join(found)}); add a domain rule for it"
    return None, Problem("domain-conflict", "warning", location, message)
