"""Path and schema domain rules, set in the configuration: for dbt nodes without a domain of their own, a rule on
the file path or fqn first, then one on the schema; each regex matched in full, the first rule that matches wins."""

from __future__ import annotations

import pytest

from bridge.config import build_config
from bridge.errors import ConfigError
from bridge.join.domains import node_domain
from bridge.read.dbt.manifest import read_manifest
from tests.conftest import CORPUS

JAFFLE = read_manifest(CORPUS / "jaffle-shop" / "manifest.parse.json")


def domain_of(unique_id: str, **rules: dict[str, str]) -> str | None:
    settings = build_config({"dbt": {"manifests": ["m.json"]}, **rules}, "test").join_settings()
    return node_domain(JAFFLE.nodes[unique_id], settings)


def test_a_path_rule_places_a_model_without_meta_or_group() -> None:
    rules = {"path_domain_rules": {"models/staging/.*": "raw", "models/marts/.*": "urn:li:domain:sales"}}
    assert domain_of("model.jaffle_shop.orders", **rules) == "sales"
    assert domain_of("model.jaffle_shop.stg_orders", **rules) == "raw"


def test_an_fqn_matches_a_path_rule_too_and_a_partial_match_does_not() -> None:
    assert domain_of("model.jaffle_shop.orders", path_domain_rules={"jaffle_shop\\.marts\\..*": "sales"}) == "sales"
    assert domain_of("model.jaffle_shop.orders", path_domain_rules={"marts": "sales"}) is None


def test_a_schema_rule_applies_after_the_path_rules() -> None:
    schema = {"schema_domain_rules": {"dbt_dummy": "unused", "DBT_DUMMY": "warehouse"}}
    assert domain_of("model.jaffle_shop.orders", **schema) == "warehouse"
    both = {**schema, "path_domain_rules": {"models/marts/.*": "sales"}}
    assert domain_of("model.jaffle_shop.orders", **both) == "sales"
    assert domain_of("model.jaffle_shop.stg_orders", **both) == "warehouse"


def test_a_bad_rule_is_a_configuration_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="path_domain_rules"):
        build_config({"path_domain_rules": {"models/(": "sales"}}, "test")
    with pytest.raises(ConfigError, match="schema_domain_rules"):
        build_config({"schema_domain_rules": {"fred": "a,b"}}, "test")
