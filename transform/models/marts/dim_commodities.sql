select
    id as commodity_id,
    name as commodity_name,
    category,
    subcategory,
    active,
    parent_id,
    created_at,
    updated_at
from {{ ref('stg_coupa__commodities') }}
