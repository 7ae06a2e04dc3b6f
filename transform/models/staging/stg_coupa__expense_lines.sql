{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete+insert', post_hook="{{ coupa_drop_old_versions('expense_lines') }}") }}{{ coupa_staging('expense_lines') }}
