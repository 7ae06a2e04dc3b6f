{#-
  One row per current purchase-order line: the requisition that asked for it, the order, the
  first receipt, the first invoice and its payment, and the days between these steps.
-#}
with order_lines as (
    select * from {{ ref('stg_coupa__purchase_order_lines') }}
),

orders as (
    select * from {{ ref('stg_coupa__purchase_orders') }}
),

requisition_steps as (
    {#- A requisition line names the order line it became; approval is the requisition's latest
        approval record, else its last update once its status is approved or ordered. -#}
    select
        requisition_lines.order_line_id,
        requisitions.id as requisition_id,
        requisitions.submitted_at as requisition_submitted_at,
        coalesce(
            approvals.approved_at,
            case when requisitions.status in ('approved', 'ordered') then requisitions.updated_at end
        ) as requisition_approved_at,
        row_number() over (
            partition by requisition_lines.order_line_id
            order by requisitions.submitted_at, requisitions.id
        ) as preference
    from {{ ref('stg_coupa__requisition_lines') }} as requisition_lines
    inner join {{ ref('stg_coupa__requisitions') }} as requisitions
        on requisitions.id = requisition_lines.requisition_id
    left join (
        select approvable_id, max(approval_date) as approved_at
        from {{ ref('stg_coupa__approvals') }}
        where approvable_type = 'RequisitionHeader' and status = 'approved'
        group by approvable_id
    ) as approvals
        on approvals.approvable_id = requisitions.id
    where requisition_lines.order_line_id is not null
),

receipts as (
    {#- Receipts come from /receiving_transactions and, as type InventoryReceipt, from
        /inventory_transactions: the same record may be in both, so ids count once. -#}
    select order_line_id, min(transaction_date) as first_receipt_at, count(distinct id) as receipt_count
    from (
        select id, order_line_id, transaction_date, status
        from {{ ref('stg_coupa__receiving_transactions') }}
        union all
        select id, order_line_id, transaction_date, status
        from {{ ref('stg_coupa__inventory_transactions') }}
        where type = 'InventoryReceipt'
    ) as all_receipts
    where order_line_id is not null and coalesce(status, '') <> 'voided'
    group by order_line_id
),

invoice_steps as (
    select
        invoice_lines.order_line_id,
        min(coalesce(invoices.invoice_date, invoices.created_at)) as first_invoice_at,
        min(case when invoices.paid then invoices.payment_date end) as first_payment_at,
        count(distinct invoices.id) as invoice_count
    from {{ ref('stg_coupa__invoice_lines') }} as invoice_lines
    inner join {{ ref('stg_coupa__invoices') }} as invoices
        on invoices.id = invoice_lines.invoice_id
    where invoice_lines.order_line_id is not null
      and invoices.status not in ('voided', 'abandoned')
    group by invoice_lines.order_line_id
),

steps as (
    select
        order_lines.id as purchase_order_line_id,
        order_lines.purchase_order_id,
        orders.po_number,
        order_lines.line_num,
        orders.supplier_id,
        order_lines.commodity_id,
        order_lines.account_id,
        orders.status as order_status,
        order_lines.total as line_total,
        order_lines.currency_code,
        requisition_steps.requisition_id,
        requisition_steps.requisition_submitted_at,
        requisition_steps.requisition_approved_at,
        orders.created_at as order_created_at,
        receipts.first_receipt_at,
        coalesce(receipts.receipt_count, 0) as receipt_count,
        invoice_steps.first_invoice_at,
        coalesce(invoice_steps.invoice_count, 0) as invoice_count,
        invoice_steps.first_payment_at
    from order_lines
    inner join orders
        on orders.id = order_lines.purchase_order_id
    left join requisition_steps
        on requisition_steps.order_line_id = order_lines.id
       and requisition_steps.preference = 1
    left join receipts
        on receipts.order_line_id = order_lines.id
    left join invoice_steps
        on invoice_steps.order_line_id = order_lines.id
)

select
    steps.*,
    {{ dbt.datediff('requisition_submitted_at', 'requisition_approved_at', 'day') }} as days_requisition_to_approval,
    {{ dbt.datediff('coalesce(requisition_approved_at, requisition_submitted_at)', 'order_created_at', 'day') }} as days_approval_to_order,
    {{ dbt.datediff('order_created_at', 'first_receipt_at', 'day') }} as days_order_to_receipt,
    {{ dbt.datediff('order_created_at', 'first_invoice_at', 'day') }} as days_order_to_invoice,
    {{ dbt.datediff('first_invoice_at', 'first_payment_at', 'day') }} as days_invoice_to_payment,
    {{ dbt.datediff('coalesce(requisition_submitted_at, order_created_at)', 'first_payment_at', 'day') }} as days_procure_to_pay
from steps
