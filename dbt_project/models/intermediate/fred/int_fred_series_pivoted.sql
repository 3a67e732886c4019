-- Ephemeral: inlined as a CTE into its consumers, so it has no table of its own.
{{ config(materialized='ephemeral') }}

with observations as (

    select * from {{ ref('stg_fred_observations') }}

),

monthly as (

    select observations.*
    from observations
    inner join {{ ref('stg_fred_series') }} as series
        on observations.series_id = series.series_id
    where series.frequency = 'Monthly'
        and observations.observation_value is not null

)

select
    observation_date as observation_month,
    max(case when series_id = 'UNRATE' then observation_value end) as unemployment_rate_pct,
    max(case when series_id = 'CPIAUCSL' then observation_value end) as cpi_index,
    max(case when series_id = 'FEDFUNDS' then observation_value end) as fed_funds_rate_pct,
    max(case when series_id = 'GS10' then observation_value end) as treasury_10y_yield_pct
from monthly
group by observation_date
