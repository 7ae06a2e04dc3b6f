{{ coupa_staging('inventory_adjustments') }}
