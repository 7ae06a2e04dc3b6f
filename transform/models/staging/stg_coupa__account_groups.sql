{{ coupa_staging('account_groups') }}
