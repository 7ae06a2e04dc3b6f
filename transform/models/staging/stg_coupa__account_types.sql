{{ coupa_staging('account_types') }}
