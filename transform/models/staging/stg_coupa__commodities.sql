{{ coupa_staging('commodities') }}
