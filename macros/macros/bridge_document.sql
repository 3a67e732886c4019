{#
    The export document, as a dict (bridge_export and bridge_on_run_end print it):

    {
      "format": "dbt-lineage-bridge/export", "format_version": 1,
      "metadata": {"project_name", "dbt_version", "adapter_type"},
      "target": {"name", "type", "database", "schema"},
      "nodes": [ every enabled node, source and exposure of the project and its packages, by unique_id ],
      "groups": [ every group, by unique_id ],
      "run": null, or {"command", "invocation_id", "run_started_at", "results": [...]} after a run
    }

    Each entry of `nodes` carries the fields of the node in manifest.json that a lineage consumer reads
    (a test's SQL as written: the graph a macro sees is never compiled, even in on-run-end),
    under the manifest's own names (so a reader of manifests reads these entries the same way), for the
    active target. Nothing in it depends on the clock or a random id unless `run` is given: exporting
    twice under the same target gives the same document.
#}
{% macro bridge_document(run=none) %}
    {%- set entries = [] -%}
    {%- for collection in (graph.nodes, graph.sources, graph.exposures) -%}
        {%- for node in collection.values() -%}
            {%- do entries.append(dbt_lineage_bridge.bridge_node_entry(node)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set groups = [] -%}
    {%- for group in (graph.groups or {}).values() -%}
        {%- do groups.append({
            "unique_id": group.unique_id,
            "name": group.name,
            "owner": dbt_lineage_bridge.bridge_owner(group.owner)
        }) -%}
    {%- endfor -%}
    {{ return({
        "format": "dbt-lineage-bridge/export",
        "format_version": 1,
        "metadata": {
            "project_name": project_name,
            "dbt_version": dbt_version,
            "adapter_type": target.type
        },
        "target": {
            "name": target.name,
            "type": target.type,
            "database": target.database,
            "schema": target.schema
        },
        "nodes": entries | sort(attribute="unique_id"),
        "groups": groups | sort(attribute="unique_id"),
        "run": run
    }) }}
{% endmacro %}


{#
    One node as manifest.json has it, restricted to what a lineage consumer reads. `relation_name` is the
    one dbt resolved for this target (generate_database_name / generate_schema_name, alias, version, the
    adapter's and the project's quoting); it is null for ephemeral models and for what is not a relation.
#}
{% macro bridge_node_entry(node) %}
    {%- set config = node.get("config") or {} -%}
    {%- set test_metadata = node.get("test_metadata") -%}
    {%- set columns = {} -%}
    {%- for key, column in (node.get("columns") or {}).items() -%}
        {%- do columns.update({key: {
            "name": column.get("name"),
            "description": column.get("description") or "",
            "data_type": column.get("data_type"),
            "tags": column.get("tags") or []
        }}) -%}
    {%- endfor -%}
    {{ return({
        "unique_id": node.unique_id,
        "resource_type": node.resource_type,
        "package_name": node.package_name,
        "name": node.name,
        "database": node.get("database"),
        "schema": node.get("schema"),
        "alias": node.get("alias"),
        "identifier": node.get("identifier"),
        "relation_name": node.get("relation_name"),
        "config": config,
        "depends_on": {"nodes": (node.get("depends_on") or {}).get("nodes") or []},
        "fqn": node.get("fqn") or [],
        "original_file_path": node.get("original_file_path") or "",
        "patch_path": node.get("patch_path"),
        "description": node.get("description") or "",
        "version": node.get("version"),
        "latest_version": node.get("latest_version"),
        "source_name": node.get("source_name"),
        "group": node.get("group"),
        "access": node.get("access"),
        "tags": node.get("tags") or [],
        "meta": node.get("meta") or {},
        "test_metadata": {
            "name": test_metadata.get("name"),
            "namespace": test_metadata.get("namespace"),
            "kwargs": test_metadata.get("kwargs") or {}
        } if test_metadata else none,
        "raw_code": node.get("raw_code") if node.resource_type == "test" else none,
        "column_name": node.get("column_name"),
        "attached_node": node.get("attached_node"),
        "owner": node.get("owner") if node.resource_type == "exposure" else none,
        "url": node.get("url"),
        "columns": columns
    }) }}
{% endmacro %}


{% macro bridge_owner(owner) %}
    {%- if not owner -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return({"name": owner.get("name"), "email": owner.get("email")}) }}
{% endmacro %}
