"""Shared test settings: where the corpus and the bundled project are, and the golden-file flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.model.dbt import DbtProject
from bridge.read.dbt.manifest import read_manifest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "dbt"
BUNDLED = REPO / "dbt_project"
SNOWFLAKE_MANIFEST = BUNDLED / "artifacts" / "snowflake" / "manifest.json"
POSTGRES_ARTIFACTS = BUNDLED / "artifacts" / "postgres"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def postgres_project() -> DbtProject:
    """The bundled project as parsed for the local PostgreSQL target (what the Airflow fixtures ran)."""
    return read_manifest(POSTGRES_ARTIFACTS / "manifest.json")


@pytest.fixture(scope="session")
def snowflake_project() -> DbtProject:
    return read_manifest(SNOWFLAKE_MANIFEST)


def corpus_manifests() -> list[Path]:
    """Every manifest of the shared corpus with a supported schema (the v2 one is tested for its error). Without
    the corpus this fails the collection, loudly: tests parametrized by it must not quietly collect nothing."""
    found = sorted(CORPUS.glob("*/manifest*.json*")) + sorted(CORPUS.glob("committed-artifacts/*/manifest.json"))
    manifests = [p for p in found if "dbt_sandbox_snowflake" not in str(p)]
    if len(manifests) < 5:
        raise RuntimeError(f"the shared dbt corpus is missing or incomplete at {CORPUS} (found {len(manifests)} "
                           "manifests): the tests need ../shared beside the repository")  # fmt: skip
    return manifests


def assert_golden(path: Path, actual: str, update: bool) -> None:
    """Compare with a golden file; `pytest --update-golden` rewrites it."""
    if update or not path.exists():
        if not update:
            pytest.fail(f"golden file {path} is missing: run `make golden` to write it, then review it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"output differs from {path}; `make golden` refreshes it"
