{#- Every rate the tenant keeps into the reporting currency: the direct pairs, the inverse of
    pairs from it, and 1 for the reporting currency itself. -#}
with rates as (
    select from_currency_code, to_currency_code, rate, cast(rate_date as date) as rate_date
    from {{ ref('stg_coupa__exchange_rates') }}
    where rate is not null and rate <> 0 and rate_date is not null
)

select from_currency_code as currency_code, rate_date, cast(rate as {{ coupa_decimal_type() }}) as rate_to_reporting
from rates
where to_currency_code = '{{ var("reporting_currency") }}'
  and from_currency_code <> '{{ var("reporting_currency") }}'

union all

select to_currency_code as currency_code, rate_date, cast(1 / rate as {{ coupa_decimal_type() }}) as rate_to_reporting
from rates
where from_currency_code = '{{ var("reporting_currency") }}'
  and to_currency_code <> '{{ var("reporting_currency") }}'
