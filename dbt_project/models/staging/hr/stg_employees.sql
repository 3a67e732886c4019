with source as (

    select * from {{ source('hr', 'employees') }}

)

select
    employee_id,
    first_name,
    last_name,
    lower(work_email) as work_email,
    department,
    job_title,
    manager_id,
    country_code,
    cast(hire_date as date) as hire_date,
    cast(termination_date as date) as termination_date
from source
