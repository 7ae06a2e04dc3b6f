{{ coupa_staging('comments') }}
