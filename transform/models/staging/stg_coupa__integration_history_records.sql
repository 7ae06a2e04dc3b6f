{{ coupa_staging('integration_history_records') }}
