{#-
  One row per account allocation of each current invoice line (one row per line where the line
  has none), with the amount in the invoice's currency and in the reporting currency.

  Incremental on the load time: a run rebuilds the rows of the invoices loaded since the last
  one (delete+insert by invoice_id, so lines and allocations removed from an invoice leave with
  its old version); invoices deleted from the staging layer leave through the post-hook.
-#}
{{
    config(
        materialized='incremental',
        unique_key='invoice_id',
        incremental_strategy='delete+insert',
        post_hook="delete from {{ this }} where invoice_id not in (select id from {{ ref('stg_coupa__invoices') }})"
    )
}}

with invoices as (
    select * from {{ ref('stg_coupa__invoices') }}
    {%- if is_incremental() %}
    where _loaded_at > (select coalesce(max(loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})) from {{ this }})
    {%- endif %}
),

lines as (
    select lines.*
    from {{ ref('stg_coupa__invoice_lines') }} as lines
    inner join invoices on invoices.id = lines.invoice_id
),

allocations as (
    select
        allocations.*,
        lines.total as line_total,
        row_number() over (partition by allocations.invoice_line_id order by allocations.id) as allocation_number,
        count(*) over (partition by allocations.invoice_line_id) as allocation_count
    from {{ ref('stg_coupa__invoice_line_allocations') }} as allocations
    inner join lines on lines.id = allocations.invoice_line_id
),

allocated as (
    {#- Amounts as Coupa gives them (else the line total times pct, to the cent); the last
        allocation takes what the others leave, so a line's rows add up to its total exactly. -#}
    select
        id,
        invoice_line_id,
        account_id,
        account_code,
        pct,
        line_total,
        allocation_number,
        allocation_count,
        cast(coalesce(amount, round(line_total * pct * 0.01, 2)) as {{ coupa_decimal_type() }}) as given_amount
    from allocations
),

allocation_amounts as (
    select
        allocated.*,
        case
            when allocation_number = allocation_count
                then cast(line_total - coalesce(sum(given_amount) over (
                    partition by invoice_line_id order by allocation_number
                    rows between unbounded preceding and 1 preceding
                ), 0) as {{ coupa_decimal_type() }})
            else given_amount
        end as allocated_amount
    from allocated
),

spend as (
    select
        lines.id as invoice_line_id,
        allocation_amounts.id as invoice_line_allocation_id,
        lines.invoice_id,
        coalesce(allocation_amounts.account_id, lines.account_id) as account_id,
        coalesce(allocation_amounts.account_code, lines.account_code) as account_code,
        allocation_amounts.pct as allocation_pct,
        lines.commodity_id,
        lines.line_num,
        lines.description as line_description,
        lines.order_line_id as purchase_order_line_id,
        coalesce(allocation_amounts.allocated_amount, lines.total) as amount
    from lines
    left join allocation_amounts
        on allocation_amounts.invoice_line_id = lines.id
)

select
    {{ dbt.concat([dbt.safe_cast('spend.invoice_line_id', dbt.type_string()), "'-'", "coalesce(" ~ dbt.safe_cast('spend.invoice_line_allocation_id', dbt.type_string()) ~ ", 'line')"]) }} as spend_id,
    spend.invoice_line_id,
    spend.invoice_line_allocation_id,
    spend.invoice_id,
    invoices.invoice_number,
    invoices.supplier_id,
    spend.account_id,
    spend.account_code,
    accounts.segment_1 as account_segment_1,
    accounts.segment_2 as account_segment_2,
    accounts.segment_3 as account_segment_3,
    spend.allocation_pct,
    spend.commodity_id,
    spend.purchase_order_line_id,
    spend.line_num,
    spend.line_description,
    cast(invoices.invoice_date as date) as invoice_date,
    cast({{ dbt.date_trunc('month', 'invoices.invoice_date') }} as date) as period_month,
    spend.amount,
    invoices.currency_code,
    rates.rate_to_reporting,
    '{{ var("reporting_currency") }}' as reporting_currency_code,
    cast(round(spend.amount * rates.rate_to_reporting, 2) as {{ coupa_decimal_type() }}) as amount_reporting,
    invoices.status as invoice_status,
    invoices._loaded_at as loaded_at
from spend
inner join invoices
    on invoices.id = spend.invoice_id
left join {{ ref('stg_coupa__accounts') }} as accounts
    on accounts.id = spend.account_id
left join {{ ref('int_coupa__invoice_rates') }} as rates
    on rates.invoice_id = spend.invoice_id
