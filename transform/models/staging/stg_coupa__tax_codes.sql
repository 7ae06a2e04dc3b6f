{{ coupa_staging('tax_codes') }}
