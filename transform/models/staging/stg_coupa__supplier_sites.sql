{{ coupa_staging('supplier_sites') }}
