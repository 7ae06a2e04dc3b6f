{{ coupa_staging('budget_lines') }}
