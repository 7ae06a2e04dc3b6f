"""Suppliers, users, departments and addresses."""

from __future__ import annotations

from tap_coupa.client import IncrementalCoupaStream
from tap_coupa.schemas import parties as schemas


class SuppliersStream(IncrementalCoupaStream):
    """Suppliers, `/api/suppliers`."""

    name = "suppliers"
    scope = "core.supplier.read"
    base_schema = schemas.SUPPLIER


class UsersStream(IncrementalCoupaStream):
    """Users, `/api/users`."""

    name = "users"
    scope = "core.user.read"
    base_schema = schemas.USER


class DepartmentsStream(IncrementalCoupaStream):
    """Departments, `/api/departments`."""

    name = "departments"
    scope = "core.common.read"
    base_schema = schemas.DEPARTMENT


class AddressesStream(IncrementalCoupaStream):
    """Addresses, `/api/addresses`."""

    name = "addresses"
    scope = "core.common.read"
    base_schema = schemas.ADDRESS
