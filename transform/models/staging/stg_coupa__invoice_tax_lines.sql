{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete+insert', post_hook="{{ coupa_drop_old_versions('invoice_tax_lines') }}") }}{{ coupa_staging('invoice_tax_lines') }}
