with source as (

    select * from {{ source('markets', 'securities') }}

)

select
    cast(security_id as integer) as security_id,
    ticker,
    security_name,
    asset_class,
    sector,
    exchange as exchange_mic,
    country_code,
    currency as currency_code,
    is_active,
    cast(updated_at as timestamp) as updated_at
from source
