{{ coupa_staging('quote_responses') }}
