{{ coupa_staging('inventory_transfers') }}
