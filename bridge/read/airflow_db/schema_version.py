"""Which Airflow schema a database has, from `alembic_version` (never configured).

Revision heads are Airflow's own (`airflow.utils.db._REVISION_HEADS_MAP`); 2.11 added no migration after
2.10.3. The bridge reads the 2.10 schema onwards (assets as datasets, dataset aliases) and the 3.x line.
Seen in the fixture dumps: 2.10.5 and 2.11.2 -> 5f2621c13b39, 3.0.6 -> fe199e1abd77, 3.1.3 -> cc92b33c6709,
3.2.2 -> 1d6611b6ab7c, 3.3.2 -> d2f4e1b3c5a7.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.errors import AirflowSchemaError

# revision -> the first Airflow release with that schema
SUPPORTED_HEADS = {
    "22ed7efa9da2": "2.10.0",
    "5f2621c13b39": "2.10.3",
    "29ce7909c52b": "3.0.0",
    "fe199e1abd77": "3.0.3",
    "cc92b33c6709": "3.1.0",
    "509b94a1042d": "3.1.8",
    "1d6611b6ab7c": "3.2.0",
    "d2f4e1b3c5a7": "3.3.0",
}
OLDER_HEADS = {
    "e959f08ac86c": "2.0.0", "82b7c48c147f": "2.0.1", "2e42bb497a22": "2.0.2", "a13f7613ad25": "2.1.0",
    "97cdd93827b8": "2.1.3", "ccde3e26fe78": "2.1.4", "7b2661a43ba3": "2.2.0", "be2bfac3da23": "2.2.3",
    "587bdf053233": "2.2.4", "b1b348e02d07": "2.3.0", "1de7bc13c950": "2.3.1", "3c94c427fdf6": "2.3.2",
    "f5fcbda3e651": "2.3.3", "ecb43d2a1842": "2.4.0", "b0d31815b5a6": "2.4.2", "e07f49787c9d": "2.4.3",
    "290244fb8b83": "2.5.0", "98ae134e6fff": "2.6.0", "c804e5c76e3e": "2.6.2", "4bc4d934e2bc": "2.6.2",
    "405de8318b3a": "2.7.0", "10b52ebd31f7": "2.8.0", "88344c1d9134": "2.8.1", "1949afb29106": "2.9.0",
    "686269002441": "2.9.2",
}  # fmt: skip
SUPPORTED_TEXT = "Airflow 2.10 to 3.3"


@dataclass(frozen=True, slots=True)
class AirflowSchema:
    revision: str
    airflow_version: str  # the first release with this schema, e.g. 3.1.0

    @property
    def release(self) -> tuple[int, int]:
        major, minor = self.airflow_version.split(".")[:2]
        return int(major), int(minor)

    @property
    def major(self) -> int:
        return self.release[0]

    @property
    def has_inlet_references(self) -> bool:
        """`task_inlet_asset_reference` exists from Airflow 3.1 on (2.x and 3.0 record no inlets)."""
        return self.release >= (3, 1)


def schema_for_revision(revision: str | None, where: str) -> AirflowSchema:
    """The schema of a revision the bridge reads; AirflowSchemaError naming the revision otherwise."""
    if revision is None:
        raise AirflowSchemaError(
            f"Airflow DB {where}: alembic_version is empty, so the schema was never migrated. Run "
            "`airflow db migrate`, or check the database name in the URL."
        )
    if revision in SUPPORTED_HEADS:
        return AirflowSchema(revision, SUPPORTED_HEADS[revision])
    if revision in OLDER_HEADS:
        raise AirflowSchemaError(
            f"Airflow DB {where}: schema revision {revision} is Airflow {OLDER_HEADS[revision]}, too old "
            f"(the bridge reads {SUPPORTED_TEXT}). Upgrade Airflow, or read it through the REST API."
        )
    raise AirflowSchemaError(
        f"Airflow DB {where}: schema revision {revision!r} is not one the bridge knows (it reads "
        f"{SUPPORTED_TEXT}); a newer Airflow needs a newer bridge."
    )
