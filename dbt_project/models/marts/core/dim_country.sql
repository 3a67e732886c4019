select
    country_code,
    alpha3_code,
    country_name,
    region,
    currency_code
from {{ ref('country_codes') }}
