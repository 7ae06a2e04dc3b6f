{# Small portable pieces, dispatched per adapter where the SQL differs (docs/analytics.md). #}

{# Custom schemas are used as named (`analytics`, `staging`), not prefixed with the target's. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}

{# Exact decimals: Coupa sends up to 19 significant digits and 9-10 decimal places. #}
{% macro coupa_decimal_type() %}{{ return(adapter.dispatch('coupa_decimal_type', 'coupa')()) }}{% endmacro %}
{% macro default__coupa_decimal_type() %}numeric(38, 10){% endmacro %}
{% macro bigquery__coupa_decimal_type() %}bignumeric{% endmacro %}

{# The text of `key` in a JSON object column (a Coupa stub such as supplier or currency). #}
{% macro coupa_json_text(column, key) %}{{ return(adapter.dispatch('coupa_json_text', 'coupa')(column, key)) }}{% endmacro %}
{% macro default__coupa_json_text(column, key) %}json_extract_path_text({{ column }}, '{{ key }}'){% endmacro %}
{% macro duckdb__coupa_json_text(column, key) %}json_extract_string({{ column }}, '$."{{ key }}"'){% endmacro %}
{% macro postgres__coupa_json_text(column, key) %}(cast({{ column }} as jsonb) ->> '{{ key }}'){% endmacro %}
{% macro snowflake__coupa_json_text(column, key) %}{{ column }}:"{{ key }}"::varchar{% endmacro %}
{% macro bigquery__coupa_json_text(column, key) %}json_value({{ column }}, '$."{{ key }}"'){% endmacro %}

{# A timestamp in UTC without a zone, whatever the loader stored (text, timestamp, timestamptz). #}
{% macro coupa_utc(column, data_type) %}
  {%- set dtype = (data_type or '') | lower -%}
  {%- if 'with time zone' in dtype or dtype in ('timestamptz', 'timestamp_tz') -%}
    {{ adapter.dispatch('coupa_utc_from_tz', 'coupa')(column) }}
  {%- elif 'timestamp' in dtype or 'datetime' in dtype -%}
    cast({{ column }} as {{ dbt.type_timestamp() }})
  {%- else -%}
    {{ adapter.dispatch('coupa_utc_from_text', 'coupa')(column) }}
  {%- endif -%}
{% endmacro %}
{% macro default__coupa_utc_from_tz(column) %}({{ column }} at time zone 'UTC'){% endmacro %}
{% macro default__coupa_utc_from_text(column) %}(cast({{ column }} as timestamp with time zone) at time zone 'UTC'){% endmacro %}
{% macro duckdb__coupa_utc_from_text(column) %}cast(try_cast({{ column }} as timestamptz) at time zone 'UTC' as timestamp){% endmacro %}

{# Column names that need quotes on some warehouse once snake_cased. #}
{% macro coupa_column_name(raw_name) %}
  {%- set name = raw_name | replace('-', '_') | lower -%}
  {%- if name in ('user', 'position', 'order', 'default', 'from', 'to', 'group', 'condition', 'role', 'period') -%}
    {{ return(adapter.quote(name)) }}
  {%- endif -%}
  {{ return(name) }}
{% endmacro %}

{# The staging type of one declared column (kinds come from transform/generate_staging.py). #}
{% macro coupa_cast(expression, kind, data_type=none) %}
  {%- if kind == 'integer' -%}cast({{ expression }} as {{ dbt.type_bigint() }})
  {%- elif kind == 'number' -%}cast({{ expression }} as {{ dbt.type_float() }})
  {%- elif kind == 'boolean' -%}cast({{ expression }} as {{ dbt.type_boolean() }})
  {%- elif kind == 'decimal' -%}{{ dbt.safe_cast(expression, coupa_decimal_type()) }}
  {%- elif kind == 'datetime' -%}{{ coupa_utc(expression, data_type) }}
  {%- else -%}{{ expression }}
  {%- endif -%}
{% endmacro %}

{# A typed null, for models whose source table was not loaded. #}
{% macro coupa_null(kind) %}
  {%- if kind == 'integer' -%}cast(null as {{ dbt.type_bigint() }})
  {%- elif kind == 'number' -%}cast(null as {{ dbt.type_float() }})
  {%- elif kind == 'boolean' -%}cast(null as {{ dbt.type_boolean() }})
  {%- elif kind == 'decimal' -%}cast(null as {{ coupa_decimal_type() }})
  {%- elif kind == 'datetime' -%}cast(null as {{ dbt.type_timestamp() }})
  {%- elif kind == 'json' -%}{{ adapter.dispatch('coupa_null_json', 'coupa')() }}
  {%- else -%}cast(null as {{ dbt.type_string() }})
  {%- endif -%}
{% endmacro %}
{% macro default__coupa_null_json() %}cast(null as {{ dbt.type_string() }}){% endmacro %}
{% macro duckdb__coupa_null_json() %}cast(null as json){% endmacro %}
{% macro postgres__coupa_null_json() %}cast(null as jsonb){% endmacro %}

{# The raw table of a stream, or none when the loader never wrote it (stream not selected). #}
{% macro coupa_source_relation(stream) %}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {{ return(load_relation(source('coupa', stream))) }}
{% endmacro %}
