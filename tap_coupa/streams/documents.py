"""PO changes, comments, forms and sourcing events (path, scope: coupa_api.scopes)."""

from __future__ import annotations

from tap_coupa.schemas import documents as s
from tap_coupa.streams._declare import declare

PurchaseOrderChangesStream = declare("purchase_order_changes", s.PURCHASE_ORDER_CHANGE, "Changes")
CommentsStream = declare("comments", s.COMMENT, "Comments on documents")
EasyFormResponsesStream = declare("easy_form_responses", s.EASY_FORM_RESPONSE, "Form responses")
QuoteRequestsStream = declare("quote_requests", s.QUOTE_REQUEST, "Sourcing events")
QuoteResponsesStream = declare("quote_responses", s.QUOTE_RESPONSE, "Supplier quotes")
