"""Which stable REST API a server speaks (v2 on Airflow 3, v1 on Airflow 2) and the names that differ."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.errors import AirflowApiError, AirflowApiNotFoundError
from bridge.read.airflow_api.client import ApiClient


@dataclass(frozen=True, slots=True)
class Api:
    """The names that differ between API v1 (Airflow 2) and v2 (Airflow 3). `run_time`: the run's time the
    task-instance batch listing filters on (`<run_time>_gte`), a field of every run and task instance;
    `orders_instances`: whether that listing takes `order_by`; `filters_events`: whether the asset-event
    listing takes `timestamp_gte` (Airflow 2 answers 400 to a parameter it does not know, to both)."""

    prefix: str
    assets: str
    assets_key: str
    events: str
    events_key: str
    run_time: str
    orders_instances: bool
    filters_events: bool

    @property
    def major(self) -> int:
        return 3 if self.prefix == "/api/v2" else 2


V2 = Api("/api/v2", "/assets", "assets", "/assets/events", "asset_events", "run_after", True, True)
V1 = Api("/api/v1", "/datasets", "datasets", "/datasets/events", "dataset_events", "execution_date", False, False)


def detect_api(client: ApiClient) -> tuple[Api, str | None]:
    """API v2 when `/api/v2/version` answers, else v1; with the Airflow version the server reports."""
    for api in (V2, V1):
        client.prefix = api.prefix
        try:
            body = client.get("/version")
        except AirflowApiNotFoundError:
            continue
        return api, body.get("version") if isinstance(body, dict) else None
    raise AirflowApiError(
        f"Airflow API {client.base_url}: neither /api/v2/version nor /api/v1/version answered; "
        "is airflow_api.url the Airflow webserver / API server (without /api/v1)?"
    )
