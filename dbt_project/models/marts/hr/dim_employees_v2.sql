-- Version 2 splits the name and says whether the employee is still with the firm.
select
    employee_id,
    first_name,
    last_name,
    work_email,
    department,
    job_title,
    manager_id,
    country_code,
    hire_date,
    termination_date,
    termination_date is null as is_active
from {{ ref('stg_employees') }}
