{{ coupa_staging('uoms') }}
