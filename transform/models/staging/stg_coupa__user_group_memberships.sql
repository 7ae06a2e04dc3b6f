{{ coupa_staging('user_group_memberships') }}
