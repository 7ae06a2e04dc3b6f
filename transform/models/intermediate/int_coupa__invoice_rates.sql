{#- The rate that converts each invoice into the reporting currency: the tenant's latest rate
    on or before the invoice date, else (no rate that old) its earliest later one; 1 when the
    invoice is in the reporting currency; null when the tenant has no rate for its currency. -#}
with invoices as (
    select id as invoice_id, currency_code, cast(coalesce(invoice_date, created_at) as date) as invoice_day
    from {{ ref('stg_coupa__invoices') }}
),

days as (
    select distinct currency_code, invoice_day
    from invoices
    where currency_code <> '{{ var("reporting_currency") }}'
),

candidates as (
    select
        days.currency_code,
        days.invoice_day,
        rates.rate_to_reporting,
        row_number() over (
            partition by days.currency_code, days.invoice_day
            order by
                case when rates.rate_date <= days.invoice_day then 0 else 1 end,
                case when rates.rate_date <= days.invoice_day then rates.rate_date end desc,
                rates.rate_date
        ) as preference
    from days
    inner join {{ ref('int_coupa__exchange_rates') }} as rates
        on rates.currency_code = days.currency_code
)

select
    invoices.invoice_id,
    invoices.currency_code,
    case
        when invoices.currency_code = '{{ var("reporting_currency") }}' then cast(1 as {{ coupa_decimal_type() }})
        else candidates.rate_to_reporting
    end as rate_to_reporting
from invoices
left join candidates
    on candidates.currency_code = invoices.currency_code
   and candidates.invoice_day = invoices.invoice_day
   and candidates.preference = 1
