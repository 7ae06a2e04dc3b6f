{{ coupa_staging('currencies') }}
