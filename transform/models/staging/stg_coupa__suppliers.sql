{{ coupa_staging('suppliers') }}
