with users as (
    select * from {{ ref('stg_coupa__users') }}
),

departments as (
    select * from {{ ref('stg_coupa__departments') }}
)

select
    users.id as user_id,
    users.login,
    users.email,
    users.fullname,
    users.firstname,
    users.lastname,
    users.employee_number,
    users.active,
    users.purchasing_user,
    users.expense_user,
    users.department_id,
    departments.name as department_name,
    users.manager_id,
    users.default_currency_code,
    users.created_at,
    users.updated_at
from users
left join departments
    on departments.id = users.department_id
