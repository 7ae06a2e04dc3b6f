{#- Every staging model has one row per id and no null id: one query over all 76 models (the
    models the marts read also carry dbt's own unique and not_null tests in their YAML; a
    test node per model and check would add 152 nodes to every build). Fails with the models
    that break it. -#}
with checks as (
    {%- for stream in coupa_streams() %}
    select
        '{{ stream }}' as stream,
        count(*) - count(distinct id) - (count(*) - count(id)) as duplicate_ids,
        count(*) - count(id) as null_ids
    from {{ ref('stg_coupa__' ~ stream) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from checks
where duplicate_ids > 0 or null_ids > 0
