"""Tenants that differ from the documentation: collections they lack, modules not licensed.

Coupa licenses modules separately, so a documented collection can answer 404 ("No route
matches") on one tenant, 403 on another that has not licensed its module (whatever the token's
scopes), or fail with a 5xx every time. Discovery keeps such a stream's documented schema with
one warning (tap_coupa.discovery); a run that selects it stops before its first record
(`check_selected`): one cheap request per selected collection (`limit=1`, only `id`) during
setup, all at once, so a pipeline never loads some streams and then fails on a later one.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from coupa_api.client import CoupaClient
from coupa_api.errors import (
    CoupaAuthError,
    CoupaFatalError,
    CoupaRetriableError,
    CoupaScopeError,
)
from coupa_api.query import fields_param
from coupa_api.scopecheck import GRANT_WHERE

#: Probes sent at the same time (as discovery samples; the rate controller paces them).
PROBE_WORKERS = 8
_ID_FIELD = {"fields": fields_param(["id"])}
_ID_ONLY = {"limit": 1, **_ID_FIELD}
#: The parent a sub-resource is probed under: the lowest id, the same one on every run.
_FIRST_ID = {**_ID_ONLY, "order_by": "id"}


class Lack(enum.Enum):
    """Why this tenant cannot serve a documented collection."""

    MISSING = "missing"  # 404: no such route on this tenant
    FORBIDDEN = "forbidden"  # 403: scope not granted, or module not licensed
    FAILING = "failing"  # 5xx on every attempt the retry policy allowed


def lack_of(exc: BaseException) -> Lack | None:
    """What `exc` says about the collection, or None when it says nothing about the tenant.

    A token refusal, a network failure or a 429 past the retries is about the connection,
    not about one collection: those stop discovery and runs as before.
    """
    if isinstance(exc, CoupaAuthError):
        return None
    if isinstance(exc, CoupaScopeError):
        return Lack.FORBIDDEN
    if isinstance(exc, CoupaFatalError) and exc.status == 404:
        return Lack.MISSING
    if isinstance(exc, CoupaRetriableError):
        response = getattr(exc, "response", None)
        if response is not None and response.status_code >= 500:
            return Lack.FAILING
    return None


def what_happened(lack: Lack, exc: BaseException) -> str:
    """The clause saying what the tenant answered, e.g. `this tenant has no such collection`."""
    if lack is Lack.MISSING:
        return f"this tenant has no such collection ({exc})"
    if lack is Lack.FORBIDDEN:
        return f"this client may not read it on this tenant ({_first_sentence(exc)})"
    return f"this tenant answers it with server errors only ({_first_sentence(exc)})"


def _first_sentence(exc: BaseException) -> str:
    text = str(exc)
    head, dot, _ = text.partition(". ")
    return head + ("." if dot else "")


@dataclass(frozen=True)
class Probe:
    """One selected collection to try, and the selected streams whose records come from it."""

    path: str
    scope: str
    streams: tuple[str, ...]
    #: For a sub-resource (`/api/suppliers/{supplier_id}/addresses`): the parent's collection,
    #: read first for one parent id to fill the placeholder.
    parent_path: str | None = None
    placeholder: str | None = None


@dataclass(frozen=True)
class Unavailable:
    """A probe that failed in a way that says the tenant lacks the collection."""

    probe: Probe
    lack: Lack
    error: BaseException


def probes_for(streams: Iterable[Any]) -> list[Probe]:
    """One probe per collection the selected streams read (a line stream reads its parent's)."""
    by_path: dict[str, tuple[type[Any], list[str]]] = {}
    for stream in streams:
        if stream.selected:
            source = _source(type(stream))
            by_path.setdefault(_path(source), (source, []))[1].append(stream.name)
    probes = []
    for path, (source, names) in by_path.items():
        parent = source.parent_stream_type
        if parent is None:
            probes.append(Probe(path, source.scope, tuple(names)))
        else:
            parent_path = _path(_source(parent))
            probes.append(
                Probe(path, source.scope, tuple(names), parent_path, source.context_key())
            )
    return probes


def _source(cls: type[Any]) -> type[Any]:
    """The stream class whose own requests return `cls`'s records (a line stream's parent)."""
    # A sub-resource's path has its parent's `{placeholder}`; a line stream's records come in
    # its parent's pages.
    while cls.parent_stream_type is not None and "{" not in (cls.resource or ""):
        cls = cls.parent_stream_type
    return cls


def _path(cls: type[Any]) -> str:
    return f"/api/{cls.resource or cls.name}"


def _try(client: CoupaClient, probe: Probe) -> Unavailable | None:
    try:
        if probe.parent_path is None:
            client.request("GET", probe.path, params=_ID_ONLY, scope=probe.scope)
            return None
        parents = client.request("GET", probe.parent_path, params=_FIRST_ID, scope=probe.scope)
        ids = [p["id"] for p in parents if isinstance(p, dict) and "id" in p]
        if not ids:
            return None  # no parent record: nothing to read, nothing to prove
        path = probe.path.replace("{" + str(probe.placeholder) + "}", str(ids[0]))
        try:
            client.request("GET", path, params=_ID_ONLY, scope=probe.scope)
        except CoupaFatalError as exc:
            if exc.status != 404 or parent_exists(client, probe.parent_path, ids[0], probe.scope):
                raise
            return None  # that parent was deleted just now: proves nothing either way
    except (CoupaFatalError, CoupaRetriableError) as exc:
        lack = lack_of(exc)
        if lack is None:
            raise
        return Unavailable(probe, lack, exc)
    return None


def parent_exists(client: CoupaClient, collection: str, parent_id: Any, scope: str) -> bool:
    """Whether `collection`/`parent_id` still exists: tells a deleted parent from a missing route.

    A sub-resource answers 404 both when its parent was deleted and when this tenant has no
    such collection; the parent's own record tells them apart (one request, only after a 404).
    """
    try:
        client.request("GET", f"{collection}/{parent_id}", params=_ID_FIELD, scope=scope)
    except CoupaFatalError as exc:
        if exc.status != 404 or isinstance(exc, CoupaScopeError):
            raise
        return False
    return True


def check_selected(
    client: CoupaClient, streams: Sequence[Any], *, alongside: Callable[[], None] | None = None
) -> None:
    """Raise one CoupaFatalError naming every selected stream this tenant cannot serve.

    Sent before the run writes anything (not even the input STATE), so a missing collection
    costs one request per selected collection rather than a half-loaded warehouse.
    `alongside` (the first stream's first page, CoupaStream.read_first_page) runs at the same
    time as the probes, so the check costs the run no round trip before its first record.
    """
    probes = probes_for(streams)
    if not probes:
        return
    workers = min(PROBE_WORKERS, len(probes) + (alongside is not None))
    with ThreadPoolExecutor(workers, thread_name_prefix="probe") as pool:
        if alongside is not None:
            pool.submit(alongside)
        found = [u for u in pool.map(lambda p: _try(client, p), probes) if u is not None]
    if found:
        message = unavailable_message(found, client.client_id)
        if all(u.lack is Lack.FORBIDDEN for u in found):
            raise CoupaScopeError(message, scope=found[0].probe.scope)
        raise CoupaFatalError(message)


def unavailable_message(
    found: Sequence[Unavailable], client_id: str, *, then: str = "Nothing was read."
) -> str:
    """One sentence per stream (what answered, and the fix), then what the run did."""
    sentences = []
    for item in found:
        names = " and ".join(f"'{n}'" for n in item.probe.streams)
        verb = "is" if len(item.probe.streams) == 1 else "are"
        excluded = " ".join(f'--exclude {n} "*"' for n in item.probe.streams)
        deselect = (
            f"deselect {'it' if len(item.probe.streams) == 1 else 'them'} "
            f"(`meltano select tap-coupa {excluded}`, or `selected: false` in the catalog)"
        )
        if item.lack is Lack.FORBIDDEN:
            fix = (
                f"grant client '{client_id}' the scope {item.probe.scope} in Coupa under "
                f"{GRANT_WHERE} (and add it to `scopes` if you set that; a 403 with the scope "
                f"granted means the tenant has not licensed the module), or {deselect}"
            )
        elif item.lack is Lack.MISSING:
            fix = f"{deselect}, or ask Coupa to enable the module on this tenant"
        else:
            fix = f"{deselect}, or run again once Coupa serves it"
        sentences.append(
            f"Selected stream {names} {verb} not readable: "
            f"{what_happened(item.lack, item.error)}; {fix}."
        )
    return " ".join([*sentences, then])
