{{ coupa_staging('supplier_information') }}
