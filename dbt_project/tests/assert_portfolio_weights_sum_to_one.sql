-- Each portfolio's target and current weights on a rebalance date must add up to 100%.
select
    portfolio_id,
    rebalance_date,
    sum(target_weight) as total_target_weight,
    sum(current_weight) as total_current_weight
from {{ ref('stg_portfolio_rebalancing_targets') }}
group by portfolio_id, rebalance_date
having abs(sum(target_weight) - 1) > 0.0001
    or abs(sum(current_weight) - 1) > 0.0001
