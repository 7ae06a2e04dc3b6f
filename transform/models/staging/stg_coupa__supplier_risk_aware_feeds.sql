{{ coupa_staging('supplier_risk_aware_feeds') }}
