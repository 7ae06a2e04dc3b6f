"""Items, supplier extras, groups, entities and projects (coupa_api.scopes has the paths)."""

from __future__ import annotations

from tap_coupa.schemas import organisation as s
from tap_coupa.streams._declare import declare
from tap_coupa.streams.parties import SuppliersStream

ItemsStream = declare("items", s.ITEM, "Catalog items")
SupplierItemsStream = declare("supplier_items", s.SUPPLIER_ITEM, "Supplier items", ItemsStream)
RemitToAddressesStream = declare(
    "remit_to_addresses", s.REMIT_TO_ADDRESS, "Suppliers' remit-to addresses", SuppliersStream
)
SupplierSitesStream = declare("supplier_sites", s.SUPPLIER_SITE, "Supplier sites")
SupplierInformationStream = declare("supplier_information", s.SUPPLIER_INFORMATION, "SIM records")
SupplierRiskStream = declare("supplier_risk_aware_feeds", s.RISK_FEED, "Supplier risk feeds")
UserGroupsStream = declare("user_groups", s.USER_GROUP, "User groups")
UserGroupMembershipsStream = declare("user_group_memberships", s.USER_GROUP_MEMBERSHIP, "Members")
BusinessGroupsStream = declare("business_groups", s.BUSINESS_GROUP, "Content groups")
LegalEntitiesStream = declare("legal_entities", s.ENTITY, "Legal entities")
BusinessEntitiesStream = declare("business_entities", s.ENTITY, "Business entities")
ProjectsStream = declare("projects", s.PROJECT, "Projects")
TasksStream = declare("tasks", s.TASK, "Project tasks")
ProjectMembershipsStream = declare("project_memberships", s.PROJECT_MEMBERSHIP, "Members")
