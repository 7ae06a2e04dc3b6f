"""Suppliers, users, departments and addresses."""

from __future__ import annotations

from coupa_api.scopes import read_scope
from tap_coupa.client import IncrementalCoupaStream
from tap_coupa.schemas import parties as schemas
from tap_coupa.subresources import SubResourceParent


class SuppliersStream(SubResourceParent, IncrementalCoupaStream):
    """Suppliers, `/api/suppliers`; parent of their remit-to addresses."""

    name = "suppliers"
    scope = read_scope(name)
    base_schema = schemas.SUPPLIER


class UsersStream(IncrementalCoupaStream):
    """Users, `/api/users`."""

    name = "users"
    scope = read_scope(name)
    base_schema = schemas.USER


class DepartmentsStream(IncrementalCoupaStream):
    """Departments, `/api/departments`."""

    name = "departments"
    scope = read_scope(name)
    base_schema = schemas.DEPARTMENT


class AddressesStream(IncrementalCoupaStream):
    """Addresses, `/api/addresses`."""

    name = "addresses"
    scope = read_scope(name)
    base_schema = schemas.ADDRESS
