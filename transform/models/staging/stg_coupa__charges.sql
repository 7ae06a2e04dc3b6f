{{ coupa_staging('charges') }}
