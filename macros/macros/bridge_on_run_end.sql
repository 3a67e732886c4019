{#
    The on-run-end recipe. In the project's dbt_project.yml:

        on-run-end:
          - "{{ dbt_lineage_bridge.bridge_on_run_end(results) }}"

    After every `dbt run`/`build`/`seed`/`snapshot`/`test`, prints the export document with `run` filled
    in: the command, the invocation id, when the run started and, per executed node (by unique_id),
    its status and execution time. Same marker, one line, no query (the hook renders to empty SQL).
#}
{% macro bridge_on_run_end(results) %}
    {%- if execute -%}
        {%- set run = {
            "command": flags.WHICH,
            "invocation_id": invocation_id,
            "run_started_at": run_started_at.isoformat(),
            "results": dbt_lineage_bridge.bridge_run_results(results)
        } -%}
        {%- do print(dbt_lineage_bridge.bridge_export_line(dbt_lineage_bridge.bridge_document(run))) -%}
    {%- endif -%}
    {{ return("") }}
{% endmacro %}


{% macro bridge_run_results(results) %}
    {%- set entries = [] -%}
    {%- for result in results -%}
        {%- do entries.append({
            "unique_id": result.node.unique_id,
            "status": result.status | string,
            "execution_time": result.execution_time,
            "failures": result.failures
        }) -%}
    {%- endfor -%}
    {{ return(entries | sort(attribute="unique_id")) }}
{% endmacro %}
