-- A staging model that the portfolio team publishes next to the marts: its table is
-- marts.stg_portfolio_rebalancing_targets, not staging.stg_portfolio_rebalancing_targets.
{{ config(schema='marts') }}

with source as (

    select * from {{ source('portfolio', 'rebalancing_targets') }}

)

select
    portfolio_id,
    portfolio_name,
    cast(rebalance_date as date) as rebalance_date,
    cast(security_id as integer) as security_id,
    cast(target_weight as numeric(9, 4)) as target_weight,
    cast(current_weight as numeric(9, 4)) as current_weight,
    cast(market_value_usd as numeric(18, 2)) as market_value_usd
from source
