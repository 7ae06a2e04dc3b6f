{{ coupa_staging('business_groups') }}
