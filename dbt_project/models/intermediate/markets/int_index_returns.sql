with prices as (

    select * from {{ ref('stg_index_prices') }}

)

select
    index_code,
    price_date,
    close_price,
    lag(close_price) over (partition by index_code order by price_date) as previous_close_price,
    close_price / lag(close_price) over (partition by index_code order by price_date) - 1 as daily_return
from prices
