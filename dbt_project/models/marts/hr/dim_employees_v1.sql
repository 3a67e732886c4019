select
    employee_id,
    first_name || ' ' || last_name as full_name,
    work_email,
    department,
    job_title,
    manager_id,
    country_code,
    hire_date,
    termination_date
from {{ ref('stg_employees') }}
