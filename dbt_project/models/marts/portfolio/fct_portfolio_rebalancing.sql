-- On Snowflake the portfolio team's marts live in their own database, FINANCE.
{{ config(database=('FINANCE' if target.type == 'snowflake' else target.database)) }}

{% set drift_tolerance = 0.02 %}

with weights as (

    select * from {{ ref('int_portfolio_weights') }}

)

select
    portfolio_id,
    portfolio_name,
    rebalance_date,
    security_id,
    ticker,
    asset_class,
    target_weight,
    current_weight,
    weight_drift,
    portfolio_value_usd,
    case
        when weight_drift > {{ drift_tolerance }} then 'sell'
        when weight_drift < -{{ drift_tolerance }} then 'buy'
        else 'hold'
    end as rebalance_action,
    case
        when weight_drift > {{ drift_tolerance }} or weight_drift < -{{ drift_tolerance }}
            then cast((target_weight - current_weight) * portfolio_value_usd as numeric(18, 2))
        else 0
    end as trade_amount_usd
from weights
