{{ coupa_staging('purchase_orders') }}
