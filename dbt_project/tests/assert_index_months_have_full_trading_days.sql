-- A test that fails on purpose, so that the committed run_results.json holds a failure next to the passes
-- (see README.md, "A failing test"). Enabled only when the var bridge_failing_test is true, which
-- regenerate.sh sets for the PostgreSQL build alone: anyone else running this project (the Airflow DAGs)
-- does not have it. fct_index_performance is a leaf model, so its failure skips nothing downstream.
-- It fails because the vendor's extract holds ten trading days of each index's month, not a full month.
{{ config(enabled=var('bridge_failing_test', false), severity='error') }}

select
    index_code,
    performance_month,
    trading_days
from {{ ref('fct_index_performance') }}
where trading_days < 15
