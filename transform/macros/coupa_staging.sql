{#
  One staging model per tap-coupa stream (models/staging/stg_coupa__<stream>.sql is one line).

  - snake_case columns; decimals exact (coupa_decimal_type), timestamps UTC, objects kept as
    JSON plus `<stub>_id` / `<stub>_code` columns; custom-field columns carried through;
  - one row per id: the latest `updated-at` (then the latest load) wins;
  - records the loader marked with `_sdc_deleted_at` are removed;
  - line and nested-array streams: only the rows of the document's current version (the
    recipe of docs/deletions.md), incremental on the load time;
  - a stream that was not loaded gives zero rows with the declared columns, not an error.
#}
{% macro coupa_staging(stream) %}
  {%- set spec = coupa_streams()[stream] -%}
  {%- set parent = spec['parent'] -%}
  {%- if parent -%}
    {#- Always referenced, so the document's staging model builds first. -#}
    {%- set parent_model = ref('stg_coupa__' ~ parent) -%}
  {%- endif -%}
  {%- set relation = coupa_source_relation(stream) -%}
  {%- set src = source('coupa', stream) -%}
  {%- set declared = {} -%}
  {%- for column in spec['columns'] -%}{%- do declared.update({column[0]: column[1]}) -%}{%- endfor -%}
  {%- set declared_names = spec['columns'] | map('first') | map('replace', '-', '_') | map('lower') | list -%}

  {%- if relation is none %}
{#- The stream was not loaded: no rows, the declared columns. #}
select
  {%- for column in spec['columns'] %}
  {{ coupa_null(column[1]) }} as {{ coupa_column_name(column[0]) }},
  {%- endfor %}
  {%- for stub in spec['stubs'] %}{% for key in stub[1] %}
  {%- set name = (stub[0] ~ '_' ~ key) | replace('-', '_') %}
  {%- if name not in declared_names %}
  {{ coupa_null('integer' if key == 'id' else 'string') }} as {{ name }},
  {%- endif %}
  {%- endfor %}{% endfor %}
  {{ coupa_null('datetime') }} as _loaded_at
where 1 = 0
  {%- else -%}
  {%- set columns = adapter.get_columns_in_relation(relation) -%}
  {%- set present = {} -%}
  {%- for column in columns -%}{%- do present.update({column.name: column}) -%}{%- endfor -%}
  {#- A stub's `<name>_id` gives way to a real column of that name (e.g. a discovered parent-id). -#}
  {%- set taken = declared_names + (columns | map(attribute='name') | map('replace', '-', '_') | map('lower') | list) -%}
  {%- set has_batched = '_sdc_batched_at' in present -%}
  {%- set has_deleted = '_sdc_deleted_at' in present -%}
  {%- set has_updated = 'updated-at' in present %}
with raw as (
  select * from {{ src }}
  {%- if is_incremental() and has_batched %}
  where _sdc_batched_at > (select coalesce(max(_loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})) from {{ this }})
  {%- endif %}
),

ranked as (
  select
    raw.*,
    row_number() over (
      partition by id
      {#- A deletion marker wins: after it, a loader keeps no newer version of the record. #}
      order by {% if has_deleted %}case when _sdc_deleted_at is null then 1 else 0 end, {% endif %}{% if has_updated %}{{ adapter.quote('updated-at') }} desc nulls last, {% endif %}{% if has_batched %}_sdc_batched_at desc nulls last{% else %}id{% endif %}
    ) as coupa_row_number
  from raw
),

latest as (
  select * from ranked
  where coupa_row_number = 1
  {%- if has_deleted %}
    and _sdc_deleted_at is null
  {%- endif %}
),

renamed as (
  select
  {%- for column in spec['columns'] %}
    {%- if column[0] in present %}
    {{ coupa_cast(adapter.quote(column[0]), column[1], present[column[0]].dtype) }} as {{ coupa_column_name(column[0]) }},
    {%- else %}
    {{ coupa_null(column[1]) }} as {{ coupa_column_name(column[0]) }},
    {%- endif %}
  {%- endfor %}
  {%- for stub in spec['stubs'] %}{% for key in stub[1] %}
    {%- set name = (stub[0] ~ '_' ~ key) | replace('-', '_') %}
    {%- if name not in taken %}
    {%- if stub[0] in present %}
    {%- set text = coupa_json_text(adapter.quote(stub[0]), key) %}
    {{ dbt.safe_cast(text, dbt.type_bigint()) if key == 'id' else text }} as {{ name }},
    {%- else %}
    {{ coupa_null('integer' if key == 'id' else 'string') }} as {{ name }},
    {%- endif %}
    {%- endif %}
  {%- endfor %}{% endfor %}
  {#- Columns the tenant's discovery added (custom-fields__<name>, ...), as loaded. #}
  {%- for column in columns %}
    {%- if column.name not in declared and not column.name.startswith('_sdc_') %}
    {{ adapter.quote(column.name) }} as {{ coupa_column_name(column.name) }},
    {%- endif %}
  {%- endfor %}
    {% if has_batched %}{{ coupa_utc('_sdc_batched_at', present['_sdc_batched_at'].dtype) }}{% else %}{{ coupa_null('datetime') }}{% endif %} as _loaded_at
  from latest
)

  {%- if parent %}
  {%- set key = spec['parent_key'] | replace('-', '_') %}
  {%- set version = key | replace('_id', '_updated_at') %}
  {%- if coupa_source_relation(parent) is not none %}
{#- docs/deletions.md, recipe current-lines: the rows of the document's current version. #}
select renamed.*
from renamed
inner join {{ parent_model }} as document
  on document.id = renamed.{{ key }}
 and document.updated_at = renamed.{{ version }}
  {%- else %}
{#- The document stream was not loaded: the newest version seen in the rows themselves. #}
select renamed.*
from renamed
inner join (
  select {{ key }} as document_id, max({{ version }}) as document_updated_at
  from renamed
  group by {{ key }}
) as newest
  on newest.document_id = renamed.{{ key }}
 and newest.document_updated_at = renamed.{{ version }}
  {%- endif %}
  {%- else %}
select * from renamed
  {%- endif %}
  {%- endif %}
{% endmacro %}


{#
  Post-hook of the incremental line models: rows whose document has a newer version (or was
  deleted) leave, since a removed line is never loaded again to replace them.
#}
{% macro coupa_drop_old_versions(stream) %}
  {%- set spec = coupa_streams()[stream] -%}
  {%- set key = spec['parent_key'] | replace('-', '_') -%}
  {%- set version = key | replace('_id', '_updated_at') -%}
  {%- if coupa_source_relation(spec['parent']) is not none -%}
delete from {{ this }}
where id in (
  select line.id
  from {{ this }} as line
  left join {{ ref('stg_coupa__' ~ spec['parent']) }} as document
    on document.id = line.{{ key }}
   and document.updated_at = line.{{ version }}
  where document.id is null
)
  {%- else -%}
delete from {{ this }}
where id in (
  select line.id
  from {{ this }} as line
  inner join (
    select {{ key }} as document_id, max({{ version }}) as document_updated_at
    from {{ this }}
    group by {{ key }}
  ) as newest
    on newest.document_id = line.{{ key }}
  where line.{{ version }} < newest.document_updated_at
)
  {%- endif -%}
{% endmacro %}
