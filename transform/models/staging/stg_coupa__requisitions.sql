{{ coupa_staging('requisitions') }}
