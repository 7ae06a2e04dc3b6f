"""Chart of accounts and reference data."""

from __future__ import annotations

from coupa_api.scopes import read_scope
from tap_coupa.client import CoupaStream, IncrementalCoupaStream
from tap_coupa.schemas import reference_data as schemas


class AccountsStream(IncrementalCoupaStream):
    """Accounts (chart-of-accounts combinations), `/api/accounts`."""

    name = "accounts"
    scope = read_scope(name)
    base_schema = schemas.ACCOUNT


class AccountTypesStream(IncrementalCoupaStream):
    """Charts of accounts, `/api/account_types`."""

    name = "account_types"
    scope = read_scope(name)
    base_schema = schemas.ACCOUNT_TYPE


class LookupValuesStream(IncrementalCoupaStream):
    """Lookup values, `/api/lookup_values`."""

    name = "lookup_values"
    scope = read_scope(name)
    base_schema = schemas.LOOKUP_VALUE


class CurrenciesStream(CoupaStream):
    """Currencies, `/api/currencies`: Coupa gives them no timestamps, so every run reads all."""

    name = "currencies"
    scope = read_scope(name)
    base_schema = schemas.CURRENCY_RECORD


class ExchangeRatesStream(IncrementalCoupaStream):
    """Exchange rates, `/api/exchange_rates`."""

    name = "exchange_rates"
    scope = read_scope(name)
    base_schema = schemas.EXCHANGE_RATE


class PaymentTermsStream(IncrementalCoupaStream):
    """Payment terms, `/api/payment_terms`."""

    name = "payment_terms"
    scope = read_scope(name)
    base_schema = schemas.PAYMENT_TERM


class CommoditiesStream(IncrementalCoupaStream):
    """Commodities, `/api/commodities`."""

    name = "commodities"
    scope = read_scope(name)
    base_schema = schemas.COMMODITY


class UomsStream(IncrementalCoupaStream):
    """Units of measure, `/api/uoms`."""

    name = "uoms"
    scope = read_scope(name)
    base_schema = schemas.UOM
