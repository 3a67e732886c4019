"""The fixed set of statements one read sends, for the Airflow 2.10/2.11 and the 3.x schema.

Each statement reads one kind of fact for every DAG at once; none is per DAG or per task, so a read sends
the same statements for 6 DAGs as for 6,000. The only parameter is the time runs, task instances and asset
events are read from (`%s`, bound by the driver, never formatted into the text). Connections are read by id,
type and host, variables by name: no column holding a secret (`login`, `password`, `extra`, `val`) is ever
selected.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from bridge.read.airflow_db.schema_version import AirflowSchema


@dataclass(frozen=True, slots=True)
class Queries:
    dags: str
    tags: str
    serialized: str
    assets: str
    outlets: str
    inlets: str | None  # None where the schema records no inlets (2.x, 3.0)
    schedules: str
    schedule_aliases: str
    aliases: str
    events: str
    runs: str
    task_instances: str
    import_errors: str = "SELECT filename, timestamp, stacktrace FROM import_error ORDER BY filename, id"
    connections: str = "SELECT conn_id, conn_type, host FROM connection ORDER BY conn_id"
    variables: str = 'SELECT "key" FROM variable ORDER BY "key"'

    def statements(self) -> list[str]:
        """Every statement of the set, in the order of the fields."""
        return [value for f in fields(self) if isinstance(value := getattr(self, f.name), str)]


_TAGS = "SELECT dag_id, name FROM dag_tag ORDER BY dag_id, name"
# Run history only of the DAGs the `dags` statement reads (a deleted or stale DAG's runs would be instances of
# a flow the sync does not emit, or removes), `{active}` being that statement's condition.
_RUNS = """
    SELECT r.dag_id, r.run_id, r.state, r.run_type, r.{logical}, r.start_date, r.end_date, r.queued_at, r.conf
    FROM dag_run r JOIN dag d ON d.dag_id = r.dag_id
    WHERE {active} AND COALESCE(r.start_date, r.queued_at) >= %s ORDER BY r.dag_id, r.id"""
_TASK_INSTANCES = """
    SELECT ti.dag_id, ti.task_id, ti.run_id, ti.state, ti.try_number, ti.map_index,
           ti.start_date, ti.end_date, ti.duration, ti.operator, ti.hostname
    FROM task_instance ti JOIN dag_run r ON r.dag_id = ti.dag_id AND r.run_id = ti.run_id
    JOIN dag d ON d.dag_id = ti.dag_id
    WHERE {active} AND COALESCE(r.start_date, r.queued_at) >= %s
    ORDER BY ti.dag_id, ti.run_id, ti.task_id, ti.map_index"""

AIRFLOW_3 = Queries(
    dags="""
        SELECT dag_id, is_paused, is_stale, fileloc, owners, description, timetable_summary
        FROM dag WHERE NOT is_stale ORDER BY dag_id""",
    tags=_TAGS,
    # The latest serialized version of every active DAG (Airflow 3 keeps one row per dag_version).
    serialized="""
        SELECT dag_id, version_number, data, data_compressed FROM (
            SELECT s.dag_id, v.version_number, s.data, s.data_compressed,
                   ROW_NUMBER() OVER (
                       PARTITION BY s.dag_id ORDER BY v.version_number DESC, s.last_updated DESC
                   ) AS newest_first
            FROM serialized_dag s
            JOIN dag_version v ON v.id = s.dag_version_id
            JOIN dag d ON d.dag_id = s.dag_id
            WHERE NOT d.is_stale
        ) latest WHERE newest_first = 1 ORDER BY dag_id""",
    assets='SELECT id, uri, name, "group", extra FROM asset ORDER BY id',
    outlets="SELECT asset_id, dag_id, task_id FROM task_outlet_asset_reference ORDER BY asset_id, dag_id, task_id",
    inlets="SELECT asset_id, dag_id, task_id FROM task_inlet_asset_reference ORDER BY asset_id, dag_id, task_id",
    schedules="SELECT asset_id, dag_id FROM dag_schedule_asset_reference ORDER BY asset_id, dag_id",
    schedule_aliases="""
        SELECT a.name, r.dag_id FROM dag_schedule_asset_alias_reference r JOIN asset_alias a ON a.id = r.alias_id
        ORDER BY a.name, r.dag_id""",
    aliases="""
        SELECT a.name, l.asset_id FROM asset_alias a LEFT JOIN asset_alias_asset l ON l.alias_id = a.id
        ORDER BY a.name, l.asset_id""",
    events="""
        SELECT a.uri, e.timestamp, e.source_dag_id, e.source_task_id, e.source_run_id, e.source_map_index
        FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE e.timestamp >= %s ORDER BY e.id""",
    runs=_RUNS.format(logical="logical_date", active="NOT d.is_stale"),
    task_instances=_TASK_INSTANCES.format(active="NOT d.is_stale"),
)

AIRFLOW_2 = Queries(
    dags="""
        SELECT dag_id, is_paused, NOT is_active, fileloc, owners, description, schedule_interval
        FROM dag WHERE is_active ORDER BY dag_id""",
    tags=_TAGS,
    # Airflow 2 keeps one row per DAG, overwritten on every change.
    serialized="""
        SELECT s.dag_id, NULL, s.data, s.data_compressed
        FROM serialized_dag s JOIN dag d ON d.dag_id = s.dag_id WHERE d.is_active ORDER BY s.dag_id""",
    assets="SELECT id, uri, NULL, NULL, extra FROM dataset ORDER BY id",
    outlets="""
        SELECT dataset_id, dag_id, task_id FROM task_outlet_dataset_reference ORDER BY dataset_id, dag_id, task_id""",
    inlets=None,
    schedules="SELECT dataset_id, dag_id FROM dag_schedule_dataset_reference ORDER BY dataset_id, dag_id",
    schedule_aliases="""
        SELECT a.name, r.dag_id FROM dag_schedule_dataset_alias_reference r
        JOIN dataset_alias a ON a.id = r.alias_id ORDER BY a.name, r.dag_id""",
    aliases="""
        SELECT a.name, l.dataset_id FROM dataset_alias a LEFT JOIN dataset_alias_dataset l ON l.alias_id = a.id
        ORDER BY a.name, l.dataset_id""",
    events="""
        SELECT d.uri, e.timestamp, e.source_dag_id, e.source_task_id, e.source_run_id, e.source_map_index
        FROM dataset_event e JOIN dataset d ON d.id = e.dataset_id WHERE e.timestamp >= %s ORDER BY e.id""",
    runs=_RUNS.format(logical="execution_date", active="d.is_active"),
    task_instances=_TASK_INSTANCES.format(active="d.is_active"),
)


# The statements that read per-DAG rows in bulk, and the column that names the DAG in each.
_PER_DAG = {
    "serialized": ("s.dag_id", "dag_id"),
    "runs": ("r.dag_id", "r.dag_id"),
    "task_instances": ("ti.dag_id",) * 2,
}
_IN_LIST = {"postgresql": "{} = ANY(%s)", "sqlite": "{} IN (SELECT value FROM json_each(%s))"}


def only_dags(q: Queries, major: int, dialect: str) -> Queries:
    """The statements with the heavy per-DAG reads (serialized DAGs, runs, task instances) restricted to a
    list of dag_ids given as their last parameter (a list on PostgreSQL, a JSON array on SQLite)."""
    changed = {}
    for name, columns in _PER_DAG.items():
        head, order_by, tail = getattr(q, name).rpartition("ORDER BY")
        condition = _IN_LIST[dialect].format(columns[0] if major < 3 else columns[1])
        changed[name] = f"{head}AND {condition} {order_by}{tail}"
    return replace(q, **changed)


def queries_for(schema: AirflowSchema) -> Queries:
    """The statements for a schema: the 2.x or the 3.x family, without inlets before Airflow 3.1."""
    if schema.major < 3:
        return AIRFLOW_2
    return AIRFLOW_3 if schema.has_inlet_references else replace(AIRFLOW_3, inlets=None)
