with source as (

    select * from {{ source('fred', 'series') }}

)

select
    series_id,
    title as series_title,
    units,
    frequency,
    seasonal_adjustment,
    cast(observation_start as date) as observation_start_date,
    cast(last_updated as timestamp) as last_updated_at
from source
