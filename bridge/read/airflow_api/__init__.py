"""The Airflow REST API reader (stable API v2 on Airflow 3, v1 on Airflow 2.10/2.11)."""
