{#
    The on-run-end recipe. In the project's dbt_project.yml:

        on-run-end:
          - "{{ dbt_lineage_bridge.bridge_on_run_end(results) }}"

    After every `dbt run`/`build`/`seed`/`snapshot`/`test`, prints the export document with `run` filled
    in: the command, the invocation id, when the run started and, per executed node, what run_results.json
    says of it (status, timing, execution time, message, failures). Same marker, one line, no query (the
    hook renders to empty SQL).
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
        {%- set timing = [] -%}
        {%- for step in result.timing -%}
            {%- do timing.append({
                "name": step.name,
                "started_at": step.started_at.isoformat() ~ "Z" if step.started_at else none,
                "completed_at": step.completed_at.isoformat() ~ "Z" if step.completed_at else none
            }) -%}
        {%- endfor -%}
        {%- do entries.append({
            "unique_id": result.node.unique_id,
            "status": result.status | string,
            "execution_time": result.execution_time,
            "timing": timing,
            "message": result.message,
            "failures": result.failures
        }) -%}
    {%- endfor -%}
    {{ return(entries | sort(attribute="unique_id")) }}
{% endmacro %}
