{{ coupa_staging('departments') }}
