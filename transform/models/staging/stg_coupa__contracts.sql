{{ coupa_staging('contracts') }}
