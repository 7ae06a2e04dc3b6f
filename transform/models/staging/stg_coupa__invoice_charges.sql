{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete+insert', post_hook="{{ coupa_drop_old_versions('invoice_charges') }}") }}{{ coupa_staging('invoice_charges') }}
