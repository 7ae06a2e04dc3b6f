{{ coupa_staging('payables_external') }}
