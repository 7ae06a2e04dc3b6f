{{ coupa_staging('invoices') }}
