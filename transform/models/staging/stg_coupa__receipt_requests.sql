{{ coupa_staging('receipt_requests') }}
