{{ coupa_staging('tax_registrations') }}
