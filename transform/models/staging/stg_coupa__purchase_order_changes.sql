{{ coupa_staging('purchase_order_changes') }}
