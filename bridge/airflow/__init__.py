"""The bridge inside Airflow (the `airflow` extra): a task appended to a Cosmos DAG that emits its lineage.

    from bridge.airflow import add_bridge_task
    add_bridge_task(my_dbt_dag)          # after a DbtDag, or after / inside a DbtTaskGroup

The operator is imported on first use, so the parts that need no Airflow (`connection.py`) load without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.airflow.operator import BridgeSyncOperator, add_bridge_task

__all__ = ["BridgeSyncOperator", "add_bridge_task"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from bridge.airflow import operator

        return getattr(operator, name)
    raise AttributeError(f"module 'bridge.airflow' has no attribute {name!r}")
