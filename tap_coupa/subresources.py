"""Sub-resources: collections Coupa serves under a parent record (`/api/suppliers/:id/addresses`).

They are singer-sdk child streams: the parent hands each record's id to the child as its
context (`{"supplier_id": 17}`), the SDK fills the path's `{supplier_id}` from it, and the
child reads that parent's collection with the same paging, retries and limits as any stream.
A child is read in full for each parent record the run reads, so its state is one entry for
the stream, not one per parent (thousands of suppliers would otherwise bloat STATE).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from typing_extensions import override

from coupa_api.errors import CoupaFatalError, CoupaScopeError
from tap_coupa import tenant
from tap_coupa.child_streams import ChildStream
from tap_coupa.client import CoupaStream

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from coupa_api.client import CoupaClient

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: Parents whose sub-resource discovery tries before keeping the documented schema.
SAMPLE_PARENTS = 3


class SubResourceStream(ChildStream):
    """A collection read once per parent record; every row carries its parent's id."""

    state_partitioning_keys: ClassVar[list[str]] = []

    @classmethod
    def context_key(cls) -> str:
        """The path's placeholder, filled from the parent's record id (`supplier_id`)."""
        found = _PLACEHOLDER.search(cls.resource or "")
        if found is None:
            msg = f"{cls.__name__}: a sub-resource path needs a {{parent_id}} placeholder"
            raise TypeError(msg)
        return found.group(1)

    @classmethod
    def parent_id_key(cls) -> str:
        """The column joining a row to its parent (`supplier-id`)."""
        return cls.context_key().replace("_", "-")

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """One parent's collection; skipped (and counted) when the parent was just deleted.

        A parent read on its page can be deleted before its sub-resource is read; Coupa then
        answers 404. That is confirmed with one request for the parent itself before the
        parent is skipped: a 404 for a parent that still exists means this tenant has no such
        collection, and the run stops with a sentence rather than skip every parent.
        The SDK writes a STATE at the end of every child sync, i.e. once per parent record;
        this stream's state goes out with its parent's instead, at the run's cadence
        (tap_coupa.checkpoints).
        """
        try:
            yield from super().get_records(context)
        except CoupaFatalError as exc:
            if exc.status != 404 or isinstance(exc, CoupaScopeError) or context is None:
                raise
            self._skip_vanished_parent(context[self.context_key()], exc)
        self.state_goes_with_parent()

    def _skip_vanished_parent(self, parent_id: Any, exc: CoupaFatalError) -> None:
        # `/api/suppliers/{supplier_id}/addresses` -> the parent's `/api/suppliers` and name.
        collection = self.path.split("/{", 1)[0]
        parent = collection.removeprefix("/api/")
        scope = str(getattr(self.parent_stream_type, "scope", self.scope))
        if tenant.parent_exists(self.coupa, collection, parent_id, scope):
            path = self.path.replace("{" + self.context_key() + "}", str(parent_id))
            found = tenant.Unavailable(
                tenant.Probe(path, self.scope, (self.name,)), tenant.Lack.MISSING, exc
            )
            then = f"({parent} {parent_id} exists, so this 404 is not a deletion.)"
            raise CoupaFatalError(
                tenant.unavailable_message([found], self.coupa.client_id, then=then),
                status=404,
            ) from exc
        self.stats.add(skipped=1)
        self.logger.info(
            "Stream '%s': %s record %s was deleted after its page was read (GET %s/%s answered "
            "404); its %s were skipped.",
            self.name,
            parent,
            parent_id,
            collection,
            parent_id,
            self.name,
        )

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """The parent's id, for joins, then the usual normalisation."""
        if context is not None:
            row[self.parent_id_key()] = context[self.context_key()]
        return super().post_process(row, context)


class SubResourceParent(CoupaStream):
    """A stream whose records are parents of sub-resource streams: hands each id to them."""

    @override
    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        """`{"<key>": id}` when a sub-resource child is selected, else nothing (no requests)."""
        keys = {
            child.context_key()
            for child in self.child_streams
            if isinstance(child, SubResourceStream)
            and (child.selected or child.has_selected_descendents)
        }
        if keys and "id" in record:
            yield dict.fromkeys(keys, record["id"])


def sample_children(
    client: CoupaClient,
    cls: type[SubResourceStream],
    parents: Sequence[dict[str, Any]],
    sample: Callable[..., list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Discovery's sample of a sub-resource: the collection of the first parents that have one.

    Parents without records (a supplier with no remit-to address) cost one request each, so
    at most SAMPLE_PARENTS are tried. A 404 may be a parent deleted since it was sampled: the
    next one is tried; when every one tried answers 404 the collection is missing on this
    tenant, and that 404 (like a 403) is raised for discovery to report (tap_coupa.tenant).
    """
    key = cls.context_key()
    missing: CoupaFatalError | None = None
    answered = False
    tried = [p for p in parents if "id" in p][:SAMPLE_PARENTS]
    for parent in tried:
        path = "/api/" + (cls.resource or "").replace("{" + key + "}", str(parent["id"]))
        try:
            rows = sample(client, path, cls.scope, ordered_by_update=False)
        except CoupaFatalError as exc:
            if exc.status != 404 or isinstance(exc, CoupaScopeError):
                raise
            missing = exc
            continue
        if rows:
            return rows
        answered = True
    if missing is not None and not answered:
        raise missing
    return []
