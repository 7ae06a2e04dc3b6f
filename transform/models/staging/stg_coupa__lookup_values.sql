{{ coupa_staging('lookup_values') }}
