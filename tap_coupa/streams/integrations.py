"""Integration monitoring streams (path, scope and replication: coupa_api.scopes)."""

from __future__ import annotations

from tap_coupa.schemas import integrations as s
from tap_coupa.streams._declare import declare

IntegrationsStream = declare("integrations", s.INTEGRATION, "Integrations")
IntegrationRunsStream = declare("integration_runs", s.RUN, "Integration runs")
IntegrationErrorsStream = declare("integration_errors", s.ERROR, "Integration errors")
IntegrationHistoryStream = declare("integration_history_records", s.HISTORY_RECORD, "History")
