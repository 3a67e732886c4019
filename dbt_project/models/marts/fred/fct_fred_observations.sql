-- Lives in schema `fred`, not `marts`: the economists query it next to their notebooks' tables.
{{ config(schema='fred') }}

with pivoted as (

    select * from {{ ref('int_fred_series_pivoted') }}

)

select
    observation_month,
    unemployment_rate_pct,
    cpi_index,
    100 * (cpi_index / lag(cpi_index) over (order by observation_month) - 1) as cpi_change_mom_pct,
    fed_funds_rate_pct,
    treasury_10y_yield_pct,
    treasury_10y_yield_pct - fed_funds_rate_pct as term_spread_pct
from pivoted
