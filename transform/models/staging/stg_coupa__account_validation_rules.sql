{{ coupa_staging('account_validation_rules') }}
