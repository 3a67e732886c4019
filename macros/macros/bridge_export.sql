{#
    dbt run-operation bridge_export

    Prints the export document (see bridge_document) as ONE line of JSON, prefixed by the marker
    `BRIDGE_EXPORT_V1 `, so a consumer can pick it out of dbt's log output:

        dbt --quiet run-operation bridge_export | grep '^BRIDGE_EXPORT_V1 ' | cut -c18-

    It runs no query: nothing is read from or written to the warehouse.
#}
{% macro bridge_export() %}
    {%- if execute -%}
        {%- do print(dbt_lineage_bridge.bridge_export_line(dbt_lineage_bridge.bridge_document())) -%}
    {%- endif -%}
{% endmacro %}


{# The marker that starts the document's line; the bridge looks for it. #}
{% macro bridge_export_marker() %}
    {{ return("BRIDGE_EXPORT_V1") }}
{% endmacro %}


{% macro bridge_export_line(document) %}
    {{ return(dbt_lineage_bridge.bridge_export_marker() ~ " " ~ tojson(document, sort_keys=True)) }}
{% endmacro %}
