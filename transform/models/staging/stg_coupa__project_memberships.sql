{{ coupa_staging('project_memberships') }}
