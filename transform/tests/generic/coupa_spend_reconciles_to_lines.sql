{#- Each current invoice line of the spend's invoices has rows in the model that add up to its
    total exactly (to the cent at least): fails with the lines that do not. -#}
{% test coupa_spend_reconciles_to_lines(model) %}
with lines as (
    select lines.id, lines.total
    from {{ ref('stg_coupa__invoice_lines') }} as lines
    inner join (select distinct invoice_id from {{ model }}) as spent
        on spent.invoice_id = lines.invoice_id
),

spend as (
    select invoice_line_id, sum(amount) as amount, count(*) as spend_rows
    from {{ model }}
    group by invoice_line_id
)

select lines.id as invoice_line_id, lines.total, spend.amount, spend.spend_rows
from lines
left join spend
    on spend.invoice_line_id = lines.id
where spend.invoice_line_id is null
   or abs(coalesce(lines.total, 0) - spend.amount) >= 0.005
{% endtest %}
