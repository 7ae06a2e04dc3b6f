{{ coupa_staging('quote_requests') }}
