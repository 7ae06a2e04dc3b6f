{{ coupa_staging('payables_allocations') }}
