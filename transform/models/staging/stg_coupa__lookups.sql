{{ coupa_staging('lookups') }}
