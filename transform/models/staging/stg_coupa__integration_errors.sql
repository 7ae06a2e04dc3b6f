{{ coupa_staging('integration_errors') }}
