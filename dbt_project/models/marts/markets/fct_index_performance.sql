with returns as (

    select
        index_code,
        {{ dbt.date_trunc('month', 'price_date') }} as performance_month,
        price_date,
        close_price,
        daily_return
    from {{ ref('int_index_returns') }}

),

bounded as (

    select
        returns.*,
        row_number() over (partition by index_code, performance_month order by price_date) as day_from_start,
        row_number() over (partition by index_code, performance_month order by price_date desc) as day_from_end
    from returns

)

select
    index_code,
    cast(performance_month as date) as performance_month,
    count(*) as trading_days,
    min(price_date) as first_price_date,
    max(price_date) as last_price_date,
    max(case when day_from_start = 1 then close_price end) as first_close_price,
    max(case when day_from_end = 1 then close_price end) as last_close_price,
    max(case when day_from_end = 1 then close_price end)
        / max(case when day_from_start = 1 then close_price end) - 1 as period_return,
    avg(daily_return) as average_daily_return,
    min(daily_return) as worst_daily_return,
    max(daily_return) as best_daily_return
from bounded
group by index_code, performance_month
