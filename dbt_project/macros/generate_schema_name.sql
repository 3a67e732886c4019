{#
    Where a node's custom schema lands.

    - no custom schema: the target's schema;
    - targets `prod` and `local`: the custom schema as written (`marts`, `staging`, ...);
    - any other target (a developer's `dev`, a CI target): `<target.schema>_<custom schema>`,
      so everyone builds into their own schemas.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.name in ("prod", "local") -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
