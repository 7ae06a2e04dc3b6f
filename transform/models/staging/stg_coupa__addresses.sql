{{ coupa_staging('addresses') }}
