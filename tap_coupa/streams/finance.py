"""Account groups and rules, budgets, lookups, terms and taxes (coupa_api.scopes has paths)."""

from __future__ import annotations

from tap_coupa.schemas import finance as s
from tap_coupa.streams._declare import declare

AccountGroupsStream = declare("account_groups", s.ACCOUNT_GROUP, "Account groups")
AccountRulesStream = declare("account_validation_rules", s.ACCOUNT_VALIDATION_RULE, "Rules")
BudgetLinesStream = declare("budget_lines", s.BUDGET_LINE, "Budget lines")
BudgetAdjustmentsStream = declare("budget_line_adjustments", s.BUDGET_LINE_ADJUSTMENT, "Moves")
LookupsStream = declare("lookups", s.LOOKUP, "Lookups (lists of lookup values)")
ShippingTermsStream = declare("shipping_terms", s.SHIPPING_TERM, "Shipping terms")
TaxCodesStream = declare("tax_codes", s.TAX_CODE, "Tax codes")
TaxRegistrationsStream = declare("tax_registrations", s.TAX_REGISTRATION, "Tax registrations")
