{{ coupa_staging('approvals') }}
