{{ coupa_staging('projects') }}
