{{ coupa_staging('payables_invoices') }}
