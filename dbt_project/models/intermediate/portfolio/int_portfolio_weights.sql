with targets as (

    select * from {{ ref('stg_portfolio_rebalancing_targets') }}

),

securities as (

    select * from {{ ref('stg_securities') }}

)

select
    targets.portfolio_id,
    targets.portfolio_name,
    targets.rebalance_date,
    targets.security_id,
    securities.ticker,
    securities.asset_class,
    targets.target_weight,
    targets.current_weight,
    targets.current_weight - targets.target_weight as weight_drift,
    targets.market_value_usd,
    sum(targets.market_value_usd) over (
        partition by targets.portfolio_id, targets.rebalance_date
    ) as portfolio_value_usd
from targets
inner join securities
    on targets.security_id = securities.security_id
