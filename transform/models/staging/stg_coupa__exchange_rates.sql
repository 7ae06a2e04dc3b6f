{{ coupa_staging('exchange_rates') }}
