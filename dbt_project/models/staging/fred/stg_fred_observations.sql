-- One row per FRED series and month; FRED's "." (no value) becomes null.
with source as (

    select * from {{ source('fred', 'observations') }}

)

select
    series_id,
    cast(observation_date as date) as observation_date,
    cast(nullif(value, '.') as numeric(18, 6)) as observation_value,
    cast(realtime_start as date) as vintage_date
from source
