{{ coupa_staging('shipping_terms') }}
