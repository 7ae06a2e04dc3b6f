{{ coupa_staging('easy_form_responses') }}
