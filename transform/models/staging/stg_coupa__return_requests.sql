{{ coupa_staging('return_requests') }}
