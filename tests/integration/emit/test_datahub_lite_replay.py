"""`datahub ingest` replays the file sink's output into DataHub Lite, where a dbt node and its Snowflake
table are siblings carrying the same domain, and an Airflow asset outlet has met the dbt source it feeds."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from datahub.lite.lite_util import get_datahub_lite

from bridge.config import build_config
from bridge.sync import run_sync
from tests.conftest import SNOWFLAKE_MANIFEST

DBT = "urn:li:dataset:(urn:li:dataPlatform:dbt,analytics.marts.securities,PROD)"
SNOWFLAKE = "urn:li:dataset:(urn:li:dataPlatform:snowflake,analytics.marts.securities,PROD)"
RAW = "urn:li:dataset:(urn:li:dataPlatform:snowflake,analytics.raw.raw_fred_observations,PROD)"
INGEST_JOB = "urn:li:dataJob:(urn:li:dataFlow:(airflow,ingest_fred,prod),load_observations)"


def test_file_output_replays_into_datahub_lite(restored: dict[str, str], tmp_path: Path) -> None:
    mcps, lite_file = tmp_path / "mcps.json", tmp_path / "lite.db"
    config = build_config(
        {
            "dbt": {"manifests": [str(SNOWFLAKE_MANIFEST)]},
            "airflow_db": {"url": restored["af33"]},
            "sink": {"type": "file", "path": str(mcps)},
        }
    )
    run_sync(config, lambda: datetime(2026, 1, 31, tzinfo=timezone.utc))
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({
        "source": {"type": "file", "config": {"path": str(mcps)}},
        "sink": {"type": "datahub-lite", "config": {"type": "sqlite", "config": {"file": str(lite_file)}}},
    }))  # fmt: skip
    datahub = str(Path(sys.executable).with_name("datahub"))
    replay = subprocess.run([datahub, "ingest", "-c", str(recipe), "--strict-warnings"], capture_output=True, text=True,
                            timeout=300, check=False)  # fmt: skip
    assert replay.returncode == 0, replay.stdout[-3000:] + replay.stderr[-3000:]
    written = len(json.loads(mcps.read_text()))
    assert f"Pipeline finished successfully; produced {written} events" in replay.stdout

    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(lite_file)}}, read_only=True)
    try:
        dbt_side = lite.get(DBT, ["siblings", "domains"])
        table_side = lite.get(SNOWFLAKE, ["siblings", "domains"])
        ingest = lite.get(INGEST_JOB, ["dataJobInputOutput"])
    finally:
        lite.close()
    assert dbt_side is not None and table_side is not None and ingest is not None
    assert dbt_side["siblings"] == {"siblings": [SNOWFLAKE], "primary": True}  # type: ignore[comparison-overlap]
    assert table_side["siblings"] == {"siblings": [DBT], "primary": False}  # type: ignore[comparison-overlap]
    assert dbt_side["domains"] == table_side["domains"] == {"domains": ["urn:li:domain:markets"]}  # type: ignore[comparison-overlap]
    assert ingest["dataJobInputOutput"]["outputDatasets"] == [RAW]  # type: ignore[index]
