"""References an invoice makes (supplier, currency, account, ...) and how they are sent.

Coupa resolves a reference by its id or by a natural key (coupa-api.md §10.2). Ids are
per instance: an invoice copied from a sandbox to production carries the sandbox's ids, which
point nowhere (or somewhere wrong) in production. So the rule is:

    send the first natural key the record has, in the order below; send the id only when
    the record has no natural key at all; never send both (Coupa then requires all to match).

| reference | natural keys, in order | resolved in (dry run) |
|---|---|---|
| supplier | number, name | /api/suppliers |
| currency | code | /api/currencies |
| payment-term | code | /api/payment_terms |
| account-type | name | /api/account_types |
| bill-to-address, ship-to-address | location-code, name | /api/addresses |
| line account | code | /api/accounts |
| line uom | code | /api/uoms |
| line commodity | name | /api/commodities |

`ReferenceResolver` checks that references exist, once per distinct reference per run; the
dry run uses it so that an unknown supplier is reported without writing anything.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coupa_api.client import CoupaClient
from coupa_api.errors import CoupaFatalError, CoupaScopeError
from coupa_api.query import fields_param
from coupa_api.scopes import read_scope


@dataclass(frozen=True)
class ReferenceKind:
    """One kind of referenced object: where it lives and which keys name it."""

    label: str
    resource: str
    natural_keys: tuple[str, ...]

    @property
    def scope(self) -> str:
        """The read scope of the resource (coupa_api.scopes)."""
        return read_scope(self.resource)


SUPPLIER = ReferenceKind("supplier", "suppliers", ("number", "name"))
CURRENCY = ReferenceKind("currency", "currencies", ("code",))
PAYMENT_TERM = ReferenceKind("payment term", "payment_terms", ("code",))
ACCOUNT_TYPE = ReferenceKind("account type", "account_types", ("name",))
ADDRESS = ReferenceKind("address", "addresses", ("location-code", "name"))
ACCOUNT = ReferenceKind("account", "accounts", ("code",))
UOM = ReferenceKind("unit of measure", "uoms", ("code",))
COMMODITY = ReferenceKind("commodity", "commodities", ("name",))

#: Invoice header fields that are references, and what they refer to.
HEADER_REFERENCES: Mapping[str, ReferenceKind] = {
    "supplier": SUPPLIER,
    "currency": CURRENCY,
    "payment-term": PAYMENT_TERM,
    "account-type": ACCOUNT_TYPE,
    "bill-to-address": ADDRESS,
    "ship-to-address": ADDRESS,
}

#: Invoice line fields that are references.
LINE_REFERENCES: Mapping[str, ReferenceKind] = {
    "account": ACCOUNT,
    "uom": UOM,
    "commodity": COMMODITY,
}

Reference = dict[str, Any]


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def reference_for(kind: ReferenceKind, stub: Any) -> Reference | None:
    """The reference to send for `stub`: its first natural key, else its id, else None.

    >>> reference_for(SUPPLIER, {"id": 7, "name": "Acme", "number": "V-1"})
    {'number': 'V-1'}
    >>> reference_for(SUPPLIER, {"id": 7, "name": "Acme", "number": None})
    {'name': 'Acme'}
    >>> reference_for(SUPPLIER, {"id": 7})
    {'id': 7}
    """
    if not isinstance(stub, Mapping):
        return None
    for key in kind.natural_keys:
        if _present(stub.get(key)):
            return {key: stub[key]}
    if _present(stub.get("id")):
        return {"id": stub["id"]}
    return None


def describe(kind: ReferenceKind, reference: Reference) -> str:
    """`supplier number 'V-1'`: how messages name a reference."""
    key, value = next(iter(reference.items()))
    return f"{kind.label} {key} {value!r}"


def matches(reference: Mapping[str, Any], stub: Any) -> bool:
    """True when the object `stub` (as Coupa returns it) is the one `reference` names."""
    if not isinstance(stub, Mapping):
        return False
    return all(_same(stub.get(key), value) for key, value in reference.items())


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.strip() == right.strip()
    return bool(left == right)


class ReferenceResolver:
    """Checks that references exist in the target instance, each distinct one once per run."""

    def __init__(self, client: CoupaClient, logger: logging.Logger) -> None:
        self.client = client
        self.logger = logger
        self._known: dict[tuple[str, str, str], bool] = {}

    def exists(self, kind: ReferenceKind, reference: Reference) -> bool:
        """True when Coupa has an object of `kind` named by `reference`.

        Raises:
            CoupaScopeError: the token cannot read that kind of object (names the scope).
        """
        key, value = next(iter(reference.items()))
        cache_key = (kind.resource, key, str(value))
        if cache_key not in self._known:
            self._known[cache_key] = self._lookup(kind, key, value)
        return self._known[cache_key]

    def _lookup(self, kind: ReferenceKind, key: str, value: Any) -> bool:
        params = {key: value, "limit": 1, "fields": fields_param(["id", key])}
        try:
            rows = self.client.request(
                "GET", f"/api/{kind.resource}", params=params, scope=kind.scope
            )
        except CoupaFatalError as exc:
            if exc.status == 404 and not isinstance(exc, CoupaScopeError):
                return False  # a show-style miss; Coupa answers [] for filters
            raise
        return isinstance(rows, list) and any(matches({key: value}, row) for row in rows)

    def unknown(self, references: list[tuple[ReferenceKind, Reference, str]]) -> list[str]:
        """Messages for each reference in `references` (kind, reference, where) Coupa lacks."""
        return [
            f"{where}: {describe(kind, ref)} does not exist in {self.client.base_url}."
            for kind, ref, where in references
            if not self.exists(kind, ref)
        ]
