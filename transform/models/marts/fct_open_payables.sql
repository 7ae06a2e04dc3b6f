{#-
  Invoices still to pay (approved or on their way, not paid, an amount due), with the due date
  from their payment terms and the age at var('as_of_date') (default: today).
-#}
{%- set as_of = "cast('" ~ var('as_of_date') ~ "' as date)" if var('as_of_date') else dbt.current_timestamp() %}

with invoices as (
    select * from {{ ref('stg_coupa__invoices') }}
    where status in ('approved', 'pending_approval', 'pending_receipt', 'ap_hold', 'disputed', 'booking_hold', 'on_hold')
      and not coalesce(paid, false)
      and coalesce(amount_due, total_with_taxes, 0) <> 0
),

terms as (
    select * from {{ ref('stg_coupa__payment_terms') }}
),

dated as (
    select
        invoices.id as invoice_id,
        invoices.invoice_number,
        invoices.supplier_id,
        invoices.status as invoice_status,
        cast(invoices.invoice_date as date) as invoice_date,
        invoices.payment_term_id,
        coalesce(terms.code, invoices.payment_term_code) as payment_term_code,
        terms.days_for_net_payment,
        cast(
            case
                when terms.days_for_net_payment is not null
                    then {{ dbt.dateadd('day', 'terms.days_for_net_payment', 'invoices.invoice_date') }}
                else invoices.net_due_date
            end as date
        ) as due_date,
        cast({{ as_of }} as date) as as_of_date,
        coalesce(invoices.amount_due, invoices.total_with_taxes) as amount_due,
        invoices.currency_code,
        rates.rate_to_reporting
    from invoices
    left join terms
        on terms.id = invoices.payment_term_id
    left join {{ ref('int_coupa__invoice_rates') }} as rates
        on rates.invoice_id = invoices.id
),

aged as (
    select
        dated.*,
        {{ dbt.datediff('due_date', 'as_of_date', 'day') }} as days_past_due
    from dated
)

select
    invoice_id,
    invoice_number,
    supplier_id,
    invoice_status,
    invoice_date,
    payment_term_id,
    payment_term_code,
    days_for_net_payment,
    due_date,
    as_of_date,
    days_past_due,
    case
        when due_date is null then 'no due date'
        when days_past_due <= 0 then 'current'
        when days_past_due <= 30 then '1-30'
        when days_past_due <= 60 then '31-60'
        when days_past_due <= 90 then '61-90'
        else 'over 90'
    end as age_bucket,
    amount_due,
    currency_code,
    '{{ var("reporting_currency") }}' as reporting_currency_code,
    cast(round(amount_due * rate_to_reporting, 2) as {{ coupa_decimal_type() }}) as amount_due_reporting
from aged
