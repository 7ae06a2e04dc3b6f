{{ coupa_staging('remit_to_addresses') }}
