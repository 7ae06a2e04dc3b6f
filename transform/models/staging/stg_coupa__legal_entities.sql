{{ coupa_staging('legal_entities') }}
