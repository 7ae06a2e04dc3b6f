{{ coupa_staging('tasks') }}
