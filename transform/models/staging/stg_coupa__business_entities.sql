{{ coupa_staging('business_entities') }}
