{{ coupa_staging('receiving_transactions') }}
