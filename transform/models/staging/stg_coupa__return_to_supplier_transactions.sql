{{ coupa_staging('return_to_supplier_transactions') }}
