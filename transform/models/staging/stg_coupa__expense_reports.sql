{{ coupa_staging('expense_reports') }}
