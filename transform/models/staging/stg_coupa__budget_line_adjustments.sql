{{ coupa_staging('budget_line_adjustments') }}
