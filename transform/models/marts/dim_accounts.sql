with accounts as (
    select * from {{ ref('stg_coupa__accounts') }}
),

account_types as (
    select * from {{ ref('stg_coupa__account_types') }}
)

select
    accounts.id as account_id,
    accounts.code as account_code,
    accounts.name as account_name,
    accounts.active,
    accounts.account_type_id,
    account_types.name as chart_of_accounts_name,
    account_types.currency_code as chart_of_accounts_currency_code,
    accounts.segment_1,
    accounts.segment_2,
    accounts.segment_3,
    accounts.segment_4,
    accounts.segment_5,
    accounts.created_at,
    accounts.updated_at
from accounts
left join account_types
    on account_types.id = accounts.account_type_id
