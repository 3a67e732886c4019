with source as (

    select * from {{ source('markets', 'index_prices') }}

)

select
    index_code,
    cast(price_date as date) as price_date,
    cast(open_price as numeric(18, 2)) as open_price,
    cast(high_price as numeric(18, 2)) as high_price,
    cast(low_price as numeric(18, 2)) as low_price,
    cast(close_price as numeric(18, 2)) as close_price,
    currency as currency_code
from source
