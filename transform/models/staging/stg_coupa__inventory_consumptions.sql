{{ coupa_staging('inventory_consumptions') }}
