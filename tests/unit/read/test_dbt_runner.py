"""`--dbt-project-dir` without dbt installed: one error naming the project and what to install."""

from __future__ import annotations

import sys

import pytest

from bridge.errors import DbtInvocationError
from bridge.read.dbt.runner import export_with_dbt
from tests.conftest import BUNDLED


def test_without_dbt_the_error_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dbt.cli.main", None)  # what `import` meets when dbt is not installed
    with pytest.raises(DbtInvocationError) as raised:
        export_with_dbt(str(BUNDLED))
    message = str(raised.value)
    assert message.startswith(f"dbt project {BUNDLED}: needs dbt, which is not installed beside the bridge.")
    assert "pip install 'dbt-lineage-bridge[dbt]'" in message and "--dbt-export" in message
