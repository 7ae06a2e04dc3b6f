{{ coupa_staging('integration_runs') }}
