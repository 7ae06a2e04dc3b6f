{{ coupa_staging('users') }}
