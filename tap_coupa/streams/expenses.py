"""Expense streams."""

from __future__ import annotations

from coupa_api.scopes import read_scope
from tap_coupa.client import IncrementalCoupaStream
from tap_coupa.lines import EmbeddedLinesStream
from tap_coupa.schemas import expenses as schemas
from tap_coupa.streams._declare import with_parent_id


class ExpenseReportsStream(IncrementalCoupaStream):
    """Expense reports, `/api/expense_reports`."""

    name = "expense_reports"
    scope = read_scope(name)
    base_schema = schemas.EXPENSE_REPORT


class ExpenseLinesStream(EmbeddedLinesStream):
    """`expense-lines` of each expense report read."""

    name = "expense_lines"
    parent_stream_type = ExpenseReportsStream
    lines_key = "expense-lines"
    parent_id_key = "expense-report-id"
    base_schema = with_parent_id(schemas.EXPENSE_LINE, "expense-report-id")
