{{ coupa_staging('items') }}
