{{ coupa_staging('payment_terms') }}
