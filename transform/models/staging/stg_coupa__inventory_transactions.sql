{{ coupa_staging('inventory_transactions') }}
