{{ coupa_staging('user_groups') }}
