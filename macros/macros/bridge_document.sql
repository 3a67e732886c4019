{#
    The export document, as a dict (bridge_export and bridge_on_run_end print it):

    {
      "format": "dbt-lineage-bridge/export", "format_version": 1,
      "project_name": ..., "dbt_version": ...,
      "target": {"name", "type", "database", "schema"},
      "nodes": [ one entry per enabled model, seed, snapshot, source and exposure, by unique_id ],
      "run": null, or {"command", "invocation_id", "run_started_at", "results": [...]} after a run
    }

    Nothing in it depends on the clock or a random id unless `run` is given: exporting twice under
    the same target gives the same document.
#}
{% macro bridge_document(run=none) %}
    {%- set owners = dbt_lineage_bridge.bridge_group_owners() -%}
    {%- set entries = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute="unique_id") -%}
        {%- if node.resource_type in ("model", "seed", "snapshot") -%}
            {%- do entries.append(dbt_lineage_bridge.bridge_node_entry(node, owners)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for node in graph.sources.values() | sort(attribute="unique_id") -%}
        {%- do entries.append(dbt_lineage_bridge.bridge_node_entry(node, owners)) -%}
    {%- endfor -%}
    {%- for node in graph.exposures.values() | sort(attribute="unique_id") -%}
        {%- do entries.append(dbt_lineage_bridge.bridge_node_entry(node, owners)) -%}
    {%- endfor -%}
    {{ return({
        "format": "dbt-lineage-bridge/export",
        "format_version": 1,
        "project_name": project_name,
        "dbt_version": dbt_version,
        "target": {
            "name": target.name,
            "type": target.type,
            "database": target.database,
            "schema": target.schema
        },
        "nodes": entries | sort(attribute="unique_id"),
        "run": run
    }) }}
{% endmacro %}


{# One node's entry; every entry has the same keys, null where a key does not apply. #}
{% macro bridge_node_entry(node, owners) %}
    {%- set config = node.get("config") or {} -%}
    {%- set group = node.get("group") -%}
    {%- if node.resource_type == "exposure" -%}
        {%- set owner = dbt_lineage_bridge.bridge_owner(node.get("owner")) -%}
    {%- else -%}
        {%- set owner = owners.get(group) if group else none -%}
    {%- endif -%}
    {{ return({
        "unique_id": node.unique_id,
        "resource_type": node.resource_type,
        "package_name": node.package_name,
        "name": node.name,
        "source_name": node.get("source_name"),
        "version": node.get("version"),
        "latest_version": node.get("latest_version"),
        "relation": dbt_lineage_bridge.bridge_relation(node),
        "materialization": config.get("materialized"),
        "meta": dbt_lineage_bridge.bridge_meta(node),
        "group": group,
        "owner": owner,
        "tags": (node.get("tags") or []) | unique | sort | list,
        "access": node.get("access"),
        "depends_on": ((node.get("depends_on") or {}).get("nodes") or []) | unique | sort | list
    }) }}
{% endmacro %}


{#
    A node's meta: the merged `config.meta` dbt resolves (folder, file and property levels), over the
    older top-level `meta` and, for a source table, its source's meta.
#}
{% macro bridge_meta(node) %}
    {%- set merged = {} -%}
    {%- if node.resource_type == "source" -%}
        {%- do merged.update(node.get("source_meta") or {}) -%}
    {%- endif -%}
    {%- do merged.update(node.get("meta") or {}) -%}
    {%- do merged.update((node.get("config") or {}).get("meta") or {}) -%}
    {{ return(merged) }}
{% endmacro %}


{# Group name -> owner {"name", "email"} for every group in the project and its packages. #}
{% macro bridge_group_owners() %}
    {%- set owners = {} -%}
    {%- for group in (graph.groups or {}).values() | sort(attribute="unique_id") -%}
        {%- do owners.update({group.name: dbt_lineage_bridge.bridge_owner(group.owner)}) -%}
    {%- endfor -%}
    {{ return(owners) }}
{% endmacro %}


{% macro bridge_owner(owner) %}
    {%- if not owner -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return({"name": owner.name, "email": owner.email}) }}
{% endmacro %}
