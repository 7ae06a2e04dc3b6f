{{ coupa_staging('payables_orders') }}
