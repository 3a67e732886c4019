-- A calendar for 2024, generated with dbt's cross-database date_spine (no package needed).
with spine as (

    {{ dbt.date_spine(
        datepart='day',
        start_date="cast('2024-01-01' as date)",
        end_date="cast('2025-01-01' as date)"
    ) }}

),

days as (

    select cast(date_day as date) as date_day
    from spine

)

select
    date_day,
    cast(extract(year from date_day) as integer) as calendar_year,
    cast(extract(quarter from date_day) as integer) as calendar_quarter,
    cast(extract(month from date_day) as integer) as calendar_month,
    cast(extract(day from date_day) as integer) as day_of_month,
    cast(extract(dow from date_day) as integer) as day_of_week,
    cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
    extract(dow from date_day) in (0, 6) as is_weekend
from days
