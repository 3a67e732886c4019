-- Aliased: the table is marts.securities, not marts.dim_securities.
{{ config(alias='securities') }}

select
    security_id,
    ticker,
    security_name,
    asset_class,
    sector,
    exchange_mic,
    country_code,
    currency_code,
    is_active,
    updated_at
from {{ ref('stg_securities') }}
