{{ coupa_staging('accounts') }}
