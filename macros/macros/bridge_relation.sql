{#
    The relation a node resolves to under the active target, as a plain dict:
    {"database", "schema", "identifier", "rendered"}; none for ephemeral models and exposures.

    It is built the way dbt builds a node's `relation_name`: the node's database and schema (already
    resolved through generate_database_name / generate_schema_name for this target), its alias (or a
    source's identifier), and the quote policy of the adapter's defaults, overlaid with the project's
    `quoting:` config (api.Relation.create merges that in) and, for a source, the source's own
    `quoting:`. `ref()` cannot be used here: from a macro it refuses private and ephemeral models.
#}
{% macro bridge_relation(node) %}
    {%- if node.resource_type not in ("model", "seed", "snapshot", "source") -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if node.resource_type == "model" and node.config.get("materialized") == "ephemeral" -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set identifier = node.identifier if node.resource_type == "source" else node.alias -%}
    {%- set relation = api.Relation.create(
        database=node.database,
        schema=node.schema,
        identifier=identifier,
        quote_policy=dbt_lineage_bridge.bridge_own_quoting(node)
    ) -%}
    {{ return({
        "database": relation.database,
        "schema": relation.schema,
        "identifier": relation.identifier,
        "rendered": relation.render()
    }) }}
{% endmacro %}


{# A source's own `quoting:` (the parts it sets); models, seeds and snapshots have none. #}
{% macro bridge_own_quoting(node) %}
    {%- set own_quoting = {} -%}
    {%- if node.resource_type == "source" -%}
        {%- for part, quoted in (node.get("quoting") or {}).items() -%}
            {%- if part in ("database", "schema", "identifier") and quoted is not none -%}
                {%- do own_quoting.update({part: quoted}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(own_quoting) }}
{% endmacro %}
