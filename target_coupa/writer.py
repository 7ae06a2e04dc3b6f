"""The write protocol with Coupa: look up, then create, update, or leave alone.

    find (supplier + invoice-number), for up to 50 invoices per request (`find_many`)
      absent                               -> POST /api/invoices (draft), optionally submit
      present, same writable data (any status) -> unchanged, no request
      present, different, draft/new        -> PUT /api/invoices/<id>, lines matched in place
      present, different, any other status -> conflict, no request
    with `submit: true`, an invoice left a draft (created, updated, or found unchanged, e.g.
    after a run killed between create and submit) is submitted: the rerun finishes the job.

Coupa has no idempotency key (coupa-api.md §10.4), so a write is never retried blindly: after
a timeout, a dropped connection or a 5xx the writer waits as the shared retry policy says and
starts again from the lookup (a 429 or 401 is refused before anything is processed, so that
write is simply sent again after the wait). A POST that did land is then found, and reported as
created, instead of being sent twice; a PUT that landed is found unchanged. A POST that lands
only after that lookup (still in flight at Coupa's end) makes the next POST a duplicate, which
Coupa refuses; the writer then looks once more and reports the late one as created.

Coupa refusing a POST because the invoice number "has already been taken" means someone else
(another target on the same input, a person) created it since the lookup: the writer looks it
up again and updates it, or reports it unchanged, instead of rejecting the record. Two targets
on the same input therefore converge.
"""

from __future__ import annotations

import enum
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import requests

from coupa_api import scopes
from coupa_api.client import CoupaClient
from coupa_api.errors import CoupaError, CoupaFatalError, CoupaScopeError
from coupa_api.query import PAGE_SIZE, keyset_page
from coupa_api.retry import (
    RETRIABLE_EXCEPTIONS,
    TOO_MANY_REQUESTS,
    RetryPolicy,
    throttled_sentence,
)
from target_coupa.outcomes import Outcome
from target_coupa.payloads import InvoiceKey, InvoiceRequest, local_problems, plan_update
from target_coupa.references import ReferenceResolver, matches

INVOICES = "/api/invoices"
#: Coupa accepts changes to an invoice only in these statuses (coupa-api.md §10.1).
EDITABLE_STATUSES = frozenset({"draft", "new"})
#: Coupa submits only drafts for approval.
SUBMITTABLE_STATUSES = frozenset({"draft"})
#: Invoice numbers per batched look-up: one page of Coupa's results.
LOOKUP_BATCH = PAGE_SIZE
#: Coupa's words when a POST duplicates an invoice number of the same supplier.
_TAKEN = re.compile(r"already (been )?taken|already exists|duplicate", re.IGNORECASE)
#: How often "already taken" may send the writer back to the look-up for one record.
MAX_TAKEN_RETRIES = 3


class _Unknown(enum.Enum):
    UNKNOWN = "unknown"


#: "Not looked up yet": the writer looks the invoice up itself.
UNKNOWN: Final = _Unknown.UNKNOWN
#: What a look-up found: the invoice, None (absent), or UNKNOWN (look again).
Existing = dict[str, Any] | None | _Unknown
READ_SCOPE = scopes.INVOICE_READ
CREATE_SCOPE = scopes.INVOICE_CREATE
WRITE_SCOPE = scopes.INVOICE_WRITE


def _refused_unprocessed(exc: BaseException) -> bool:
    """A 429 or 401 is answered before Coupa processes anything: nothing landed."""
    response = getattr(exc, "response", None)
    return isinstance(response, requests.Response) and response.status_code in (401, 429)


class WriteAbortedError(CoupaError):
    """Coupa stayed unreachable past the retry budget; the run stops, nothing is acknowledged."""


@dataclass(frozen=True)
class _Write:
    """One write request the protocol decided to send."""

    action: Outcome
    method: str
    path: str
    body: dict[str, Any]
    scope: str


@dataclass(frozen=True)
class WriteResult:
    """What the writer did (or, in a dry run, would do) with one invoice."""

    outcome: Outcome
    coupa_id: int | None = None
    status: int | None = None
    errors: tuple[str, ...] = ()
    stage: str | None = None


class InvoiceWriter:
    """Upserts invoices through one shared CoupaClient (its token, limiter and retry policy)."""

    def __init__(
        self,
        client: CoupaClient,
        logger: logging.Logger,
        *,
        submit: bool = False,
        resolver: ReferenceResolver | None = None,
    ) -> None:
        self.client = client
        self.logger = logger
        self.submit = submit
        self.resolver = resolver or ReferenceResolver(client, logger)

    # -- lookup ---------------------------------------------------------------------------------
    def find(self, key: InvoiceKey) -> dict[str, Any] | None:
        """The invoice with this key, or None. Retried like any read.

        Raises:
            CoupaFatalError: more than one invoice matches (a supplier named ambiguously).
        """
        rows = self.client.request("GET", INVOICES, params=key.lookup_params(), scope=READ_SCOPE)
        found = [
            row
            for row in (rows if isinstance(rows, list) else [])
            if isinstance(row, Mapping)
            and row.get("invoice-number") == key.invoice_number
            and matches(key.supplier, row.get("supplier"))
        ]
        if len(found) > 1:
            ids = ", ".join(str(row.get("id")) for row in found)
            msg = f"{key} matches {len(found)} invoices in Coupa (ids {ids}); refusing to guess."
            raise CoupaFatalError(msg, coupa_errors=[msg])
        return dict(found[0]) if found else None

    def find_many(self, keys: Sequence[InvoiceKey]) -> dict[tuple[str, str, str], Existing]:
        """Look many invoices up with one request per 50: `invoice-number[in]=` + supplier.

        Keys are grouped by the supplier key they use (number, name or id); each request asks
        for `invoice-number[in]=a,b,..&supplier[number][in]=x,y,..` and reads every page of the
        answer (the cross product can hold more than one page), keeping the rows whose number
        and supplier match a key exactly. A key whose number or supplier holds a comma cannot
        be written in an `[in]` list; it, and any key two rows match, is left UNKNOWN for a
        look-up of its own.
        """
        result: dict[tuple[str, str, str], Existing] = {}
        groups: dict[str, list[InvoiceKey]] = {}
        for key in keys:
            supplier_key, value, number = key.ident
            if "," in value or "," in number:
                result[key.ident] = UNKNOWN
                continue
            groups.setdefault(supplier_key, []).append(key)
        for supplier_key, members in groups.items():
            for start in range(0, len(members), LOOKUP_BATCH):
                chunk = members[start : start + LOOKUP_BATCH]
                rows = self._rows_for(supplier_key, chunk)
                for key in chunk:
                    found = [
                        row
                        for row in rows
                        if row.get("invoice-number") == key.invoice_number
                        and matches(key.supplier, row.get("supplier"))
                    ]
                    result[key.ident] = dict(found[0]) if len(found) == 1 else None
                    if len(found) > 1:
                        result[key.ident] = UNKNOWN  # its own look-up says why
        return result

    def _rows_for(self, supplier_key: str, keys: Sequence[InvoiceKey]) -> list[Mapping[str, Any]]:
        numbers = sorted({key.invoice_number for key in keys})
        suppliers = sorted({key.ident[1] for key in keys})
        base = {
            "invoice-number[in]": ",".join(numbers),
            f"supplier[{supplier_key}][in]": ",".join(suppliers),
        }
        rows: list[Mapping[str, Any]] = []
        after = 0
        while True:
            page = self.client.request(
                "GET", INVOICES, params={**base, **keyset_page(after)}, scope=READ_SCOPE
            )
            listed = page if isinstance(page, list) else []
            batch = [row for row in listed if isinstance(row, Mapping)]
            rows.extend(batch)
            if len(batch) < PAGE_SIZE:
                return rows
            after = max(int(row.get("id") or 0) for row in batch)

    # -- the dry run ----------------------------------------------------------------------------
    def preview(self, request: InvoiceRequest, existing: Existing = UNKNOWN) -> WriteResult:
        """What `upsert` would do, from reads only: checks, reference resolution, lookup."""
        problems = local_problems(request) + self.resolver.unknown(list(request.references))
        if problems:
            return WriteResult(Outcome.REJECTED, errors=tuple(problems), stage="dry run")
        if existing is UNKNOWN:
            existing = self.find(request.key)
        if existing is None:
            return WriteResult(Outcome.CREATED, stage="dry run")
        decided = self._decide(request, existing)
        if decided is None:
            return WriteResult(Outcome.UPDATED, coupa_id=existing.get("id"), stage="dry run")
        if decided.outcome is Outcome.UNCHANGED and self._to_submit(existing.get("status")):
            return WriteResult(Outcome.SUBMITTED, coupa_id=decided.coupa_id, stage="dry run")
        return decided

    # -- the real thing -------------------------------------------------------------------------
    def upsert(self, request: InvoiceRequest, existing: Existing = UNKNOWN) -> WriteResult:
        """Make Coupa hold the request's invoice; never duplicates it, whatever the network does.

        `existing` is what a batched look-up just found; UNKNOWN makes the writer look first.
        Every retry looks up again.

        Raises:
            CoupaScopeError: the token lacks a write scope (fatal for the run).
            WriteAbortedError: Coupa stayed unreachable beyond the retry budget.
        """
        deadline = time.monotonic() + self.client.policy.max_time_seconds
        pending: Outcome | None = None  # a write whose answer we never saw
        attempt = 0
        taken = 0
        while True:
            attempt += 1
            if existing is UNKNOWN:
                existing = self._find_after(request, pending)
            step = self._next_step(request, existing, pending)
            if isinstance(step, WriteResult):
                return self._finish_draft(step, existing)
            try:
                answer = self.client.request(
                    step.method, step.path, json=step.body, scope=step.scope, retry=False
                )
            except CoupaScopeError:
                raise
            except CoupaFatalError as exc:
                if pending is None and self._taken(step, exc) and taken < MAX_TAKEN_RETRIES:
                    taken += 1  # created by someone else since our look-up: decide anew
                    self.logger.info(
                        "%s was created by someone else meanwhile; looking it up again.",
                        request.key,
                    )
                    existing = UNKNOWN
                    continue
                return self._refused(request, step, exc, pending)
            except RETRIABLE_EXCEPTIONS as exc:
                what = f"{step.method} {step.path}"
                self._wait_before_lookup(exc, attempt, deadline, what, request.key)
                if _refused_unprocessed(exc):
                    continue  # 429/401: Coupa did nothing, the same write can go again
                pending = step.action
                existing = UNKNOWN
                continue
            return self._written(step, answer, existing)

    def _find_after(
        self, request: InvoiceRequest, pending: Outcome | None
    ) -> dict[str, Any] | None:
        """Look the invoice up; after a write whose answer was lost, a refused look-up stops all.

        Coupa may hold that write: calling the record rejected (dead-lettered) would be wrong, and
        writing again blind could duplicate it. Stopping acknowledges nothing, and the next run
        looks the invoice up again.
        """
        try:
            return self.find(request.key)
        except CoupaScopeError:
            raise
        except CoupaFatalError as exc:
            if pending is None:
                raise
            msg = (
                f"The write for {request.key} got no clean answer, and the look-up that would "
                f"tell whether Coupa holds it was refused ({exc}); stopping without "
                "acknowledging it. Run again to resume: nothing is duplicated."
            )
            raise WriteAbortedError(msg) from exc

    @staticmethod
    def _taken(step: _Write, exc: CoupaFatalError) -> bool:
        """Coupa refused a POST because the invoice number is already used for that supplier."""
        if step.action is not Outcome.CREATED or exc.status not in (400, 409, 422):
            return False
        return any(_TAKEN.search(text) for text in [*exc.coupa_errors, str(exc)])

    def _to_submit(self, status: Any) -> bool:
        return self.submit and status in SUBMITTABLE_STATUSES

    def _finish_draft(self, result: WriteResult, existing: Existing) -> WriteResult:
        """With `submit: true`, submit an unchanged (or just updated) invoice still a draft.

        A run killed between creating and submitting leaves a draft that matches the record;
        the rerun submits it ("submitted") instead of reporting it unchanged forever.
        """
        if result.outcome not in (Outcome.UNCHANGED, Outcome.UPDATED) or result.coupa_id is None:
            return result
        status = existing.get("status") if isinstance(existing, Mapping) else None
        if not self._to_submit(status):
            return result
        refusal = self._submit(int(result.coupa_id))
        if refusal is not None:
            return refusal
        outcome = Outcome.SUBMITTED if result.outcome is Outcome.UNCHANGED else result.outcome
        return WriteResult(outcome, coupa_id=result.coupa_id)

    def _next_step(
        self,
        request: InvoiceRequest,
        existing: Mapping[str, Any] | None,
        pending: Outcome | None,
    ) -> WriteResult | _Write:
        """Given what Coupa holds now, the result already reached or the write to send."""
        if existing is None:
            return _Write(Outcome.CREATED, "POST", INVOICES, request.create_payload(), CREATE_SCOPE)
        if pending is Outcome.CREATED:  # our POST landed although we never saw the answer
            return self._created(int(existing["id"]), existing.get("status"))
        decided = self._decide(request, existing)
        if decided is None:
            path = f"{INVOICES}/{existing['id']}"
            body = plan_update(request, existing).payload
            return _Write(Outcome.UPDATED, "PUT", path, body, WRITE_SCOPE)
        if pending is not None and decided.outcome is Outcome.UNCHANGED:
            return WriteResult(pending, coupa_id=decided.coupa_id)  # our PUT landed
        return decided

    def _refused(
        self, request: InvoiceRequest, step: _Write, exc: CoupaFatalError, pending: Outcome | None
    ) -> WriteResult:
        """Coupa refused the write (400, 404, ...): a rejection, with Coupa's messages."""
        if pending is Outcome.CREATED and step.action is Outcome.CREATED:
            # Refused as a duplicate? Our earlier POST may have landed after the lookup that
            # missed it (it was still in flight at Coupa's end).
            late = self.find(request.key)
            if late is not None:
                return self._created(int(late["id"]), late.get("status"))
        errors = tuple(exc.coupa_errors) or (str(exc),)
        stage = "create" if step.action is Outcome.CREATED else "update"
        return WriteResult(Outcome.REJECTED, status=exc.status, errors=errors, stage=stage)

    def _written(
        self, step: _Write, answer: Any, existing: Mapping[str, Any] | None
    ) -> WriteResult:
        """Coupa accepted the write; submit a created draft if asked to."""
        body = answer if isinstance(answer, Mapping) else {}
        before = existing if isinstance(existing, Mapping) else {}
        coupa_id = body.get("id") or before.get("id")
        if step.action is Outcome.CREATED and coupa_id is not None:
            return self._created(int(coupa_id), body.get("status"))
        result = WriteResult(step.action, coupa_id=int(coupa_id) if coupa_id else None)
        return self._finish_draft(result, {"status": body.get("status") or before.get("status")})

    def _decide(self, request: InvoiceRequest, existing: Mapping[str, Any]) -> WriteResult | None:
        """Unchanged or conflict for an existing invoice; None when it should be updated."""
        coupa_id = existing.get("id")
        plan = plan_update(request, existing)
        if plan.unchanged:
            return WriteResult(Outcome.UNCHANGED, coupa_id=coupa_id)
        status = existing.get("status")
        if status not in EDITABLE_STATUSES:
            shown = "; ".join(plan.differences[:5])
            more = f" (and {len(plan.differences) - 5} more)" if len(plan.differences) > 5 else ""
            message = (
                f"Coupa invoice {coupa_id} is {status}; Coupa accepts changes only while an "
                f"invoice is draft or new, so it was left as it is. Differences: {shown}{more}."
            )
            return WriteResult(
                Outcome.CONFLICT, coupa_id=coupa_id, errors=(message,), stage="lookup"
            )
        return None

    def _created(self, coupa_id: int, status: Any) -> WriteResult:
        if self._to_submit(status):
            refusal = self._submit(coupa_id)
            if refusal is not None:
                return refusal
        return WriteResult(Outcome.CREATED, coupa_id=coupa_id)

    def _submit(self, coupa_id: int) -> WriteResult | None:
        """Submit a created draft for approval; None when done, a rejection when refused."""
        policy = self.client.policy
        deadline = time.monotonic() + policy.max_time_seconds
        path = f"{INVOICES}/{coupa_id}/submit"
        attempt = 0
        while True:
            attempt += 1
            try:
                self.client.request("PUT", path, scope=WRITE_SCOPE, retry=False)
            except CoupaScopeError:
                raise
            except CoupaFatalError as exc:
                message = (
                    f"Coupa invoice {coupa_id} is written as a draft, but Coupa refused to "
                    f"submit it: {'; '.join(exc.coupa_errors) or exc}. Submit it in Coupa once "
                    "fixed, or run again."
                )
                return WriteResult(
                    Outcome.REJECTED,
                    coupa_id=coupa_id,
                    status=exc.status,
                    errors=(message, *exc.coupa_errors),
                    stage="submit",
                )
            except RETRIABLE_EXCEPTIONS as exc:
                self._wait_before_lookup(exc, attempt, deadline, f"PUT {path}", None)
                current = self.client.request("GET", f"{INVOICES}/{coupa_id}", scope=READ_SCOPE)
                if isinstance(current, Mapping) and current.get("status") not in (
                    SUBMITTABLE_STATUSES
                ):
                    return None  # the submit did land
                continue
            return None

    def _wait_before_lookup(
        self,
        exc: BaseException,
        attempt: int,
        deadline: float,
        what: str,
        key: InvoiceKey | None,
    ) -> None:
        """Sleep as the retry policy says, or abort the run when its budget is spent."""
        policy = self.client.policy
        wait = policy.wait_for(exc, attempt)
        subject = f" for {key}" if key else ""
        if attempt >= policy.max_tries or time.monotonic() + wait > deadline:
            sentence = _gave_up(exc, policy, attempt, deadline=deadline, what=what, subject=subject)
            raise WriteAbortedError(sentence) from exc
        self.logger.warning(
            "%s%s did not answer cleanly (%s); looking the invoice up again in %.1f s before "
            "any retry (attempt %d of %d).",
            what,
            subject,
            exc,
            wait,
            attempt,
            policy.max_tries,
        )
        time.sleep(wait)


#: Said after every sentence that stops a write: what the next run does.
_RESUME = (
    "Records after the last emitted STATE were not acknowledged: run again to resume, nothing "
    "is duplicated."
)


def _gave_up(
    exc: BaseException,
    policy: RetryPolicy,
    attempt: int,
    *,
    deadline: float,
    what: str,
    subject: str,
) -> str:
    """The sentence a write that stops retrying ends the run with, naming the setting to raise.

    A 429 gets the tap's sentence (coupa_api.retry.throttled_sentence: a Retry-After longer
    than `max_retry_seconds` is named as such); otherwise whichever of `max_retries` and
    `max_retry_seconds` ran out is named.
    """
    elapsed = max(0.0, time.monotonic() - (deadline - policy.max_time_seconds))
    response = getattr(exc, "response", None)
    if isinstance(response, requests.Response) and response.status_code == TOO_MANY_REQUESTS:
        sentence = throttled_sentence(exc, policy, attempt, elapsed)
        stopped = f" The write stopped{subject}." if subject else ""
        return f"{sentence}{stopped} {_RESUME}"
    if attempt >= policy.max_tries:
        spent = f"all `max_retries` ({policy.max_tries}) attempts are spent"
    else:
        spent = (
            f"waiting for another attempt would pass `max_retry_seconds` "
            f"({policy.max_time_seconds:g} s)"
        )
    return f"{what}{subject} failed {attempt} times ({exc}); giving up: {spent}. {_RESUME}"
