{{ coupa_staging('supplier_items') }}
