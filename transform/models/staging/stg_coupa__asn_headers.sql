{{ coupa_staging('asn_headers') }}
