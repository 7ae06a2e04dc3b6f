{{ coupa_staging('integrations') }}
