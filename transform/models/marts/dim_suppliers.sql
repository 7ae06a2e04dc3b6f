with suppliers as (
    select * from {{ ref('stg_coupa__suppliers') }}
),

terms as (
    select * from {{ ref('stg_coupa__payment_terms') }}
)

select
    suppliers.id as supplier_id,
    suppliers.name as supplier_name,
    suppliers.display_name,
    suppliers.number as supplier_number,
    suppliers.status,
    suppliers.tax_id,
    suppliers.payment_method,
    suppliers.invoice_matching_level,
    suppliers.on_hold,
    suppliers.one_time_supplier,
    suppliers.payment_term_id,
    coalesce(terms.code, suppliers.payment_term_code) as payment_term_code,
    terms.days_for_net_payment,
    suppliers.primary_address_id,
    suppliers.created_at,
    suppliers.updated_at
from suppliers
left join terms
    on terms.id = suppliers.payment_term_id
