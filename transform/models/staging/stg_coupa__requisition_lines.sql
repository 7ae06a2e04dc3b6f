{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete+insert', post_hook="{{ coupa_drop_old_versions('requisition_lines') }}") }}{{ coupa_staging('requisition_lines') }}
