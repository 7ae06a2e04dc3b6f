{{ coupa_staging('coupa_pay_invoices') }}
