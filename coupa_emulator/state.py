"""One emulator instance's mutable state: data, auth, faults, counters and the request log.

All of it is touched only from the server's event loop thread, so it needs no locks.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from coupa_emulator.auth import Auth
from coupa_emulator.config import BEHAVIOUR_KNOBS, ConfigError, EmulatorConfig
from coupa_emulator.faults import Faults, Mutation, RateLimiter
from coupa_emulator.query import Schema, build_schema
from coupa_emulator.quota import Quotas
from coupa_emulator.resources import RESOURCES
from coupa_emulator.store import Store
from coupa_emulator.timefmt import now_ts

LOG_LIMIT = 200_000


class Emulator:
    """Everything a request handler or control route reads or changes."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.start_config = config
        self.config = config
        self.auth = Auth()
        self.faults = Faults()
        self.limiter = RateLimiter()
        self.quotas = Quotas()
        self._rebuild(config)
        self.faults.add(list(config.faults))

    def _rebuild(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store(config.seed, config.scale, config.counts, config.tenant_profile)
        self.schemas: dict[str, Schema] = {}
        self.mutations: list[Mutation] = []
        self.log: list[dict[str, Any]] = []
        self.requests = 0
        self.api_requests = 0
        self.by_path: Counter[str] = Counter()
        self.status_counts: Counter[str] = Counter()
        self.in_flight = 0
        #: "METHOD /path" of the API requests being served now (a held or slow one shows).
        self.serving: Counter[str] = Counter()
        self.max_in_flight = 0
        self.auth.reset()
        self.faults.rules.clear()
        self.limiter.reset()
        self.quotas.reset()

    def reset(self, **knobs: Any) -> None:
        """Regenerate data from the start config plus `knobs`; clear everything else."""
        faults = knobs.pop("faults", None)
        config = self.start_config.replaced(faults=[], **knobs)
        in_flight, serving = self.in_flight, self.serving
        self._rebuild(config)
        self.in_flight, self.serving = in_flight, serving
        if faults:
            self.faults.add(list(faults))

    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Change behaviour knobs only; data knobs need a reset."""
        bad = sorted(set(knobs) - BEHAVIOUR_KNOBS)
        if bad:
            raise ConfigError(
                f"configure() cannot change {', '.join(bad)}; allowed: "
                f"{', '.join(sorted(BEHAVIOUR_KNOBS))} (data knobs need reset())"
            )
        self.config = self.config.replaced(**knobs)
        if {"quota", "quota_window"} & set(knobs):
            self.quotas.reset()  # a new quota starts fresh windows
        return {k: getattr(self.config, k) for k in sorted(BEHAVIOUR_KNOBS)}

    def schema(self, resource: str) -> Schema:
        """The attribute tree queries are validated against (cached per reset)."""
        found = self.schemas.get(resource)
        if found is None:
            found = build_schema(self.store.samples(resource))
            self.schemas[resource] = found
        return found

    def add_mutation(
        self, after_requests: int, resource: str, update: int, insert: int, ids_above: int = 0
    ) -> None:
        """Schedule a concurrent edit to fire after `after_requests` more /api/ requests."""
        if resource not in RESOURCES:
            raise ConfigError(f"unknown resource {resource!r}")
        if min(after_requests, update, insert, ids_above) < 0:
            raise ConfigError("after_requests, update, insert and ids_above must be >= 0")
        if not RESOURCES[resource].timestamps and update:
            raise ConfigError(f"{resource} has no updated-at to bump")
        self.mutations.append(
            Mutation(self.api_requests + after_requests, resource, update, insert, ids_above)
        )

    def apply_due_mutations(self) -> None:
        """Run scripted edits whose turn has come (before the request that triggers them)."""
        due = [m for m in self.mutations if m.due <= self.api_requests]
        if not due:
            return
        self.mutations = [m for m in self.mutations if m.due > self.api_requests]
        for mutation in due:
            self._mutate(mutation)

    def _mutate(self, mutation: Mutation) -> None:
        table = self.store.table(mutation.resource)
        rng = random.Random(f"{self.config.seed}:mutation:{len(self.log)}:{mutation.resource}")
        stamp = now_ts()
        for rid in rng.sample(table.ids, min(mutation.update, len(table.ids))):
            table.touch(rid, stamp)
        spec = RESOURCES[mutation.resource]
        for _ in range(mutation.insert):
            rid = table.new_id(rng, mutation.ids_above)
            table.put(self.store.record(spec, rid, stamp, stamp))  # updated-at: now

    def record_request(self, entry: dict[str, Any]) -> None:
        """Count a served request and append it to the log."""
        self.requests += 1
        self.by_path[entry["path"]] += 1
        self.status_counts[str(entry["status"])] += 1
        if len(self.log) < LOG_LIMIT:
            self.log.append(entry)

    def stats(self) -> dict[str, Any]:
        """The counters the control API reports."""
        return {
            "requests": self.requests,
            "requests_by_path": dict(self.by_path),
            "status_counts": dict(self.status_counts),
            "token_mints": dict(self.auth.mints),
            "serving": sorted(self.serving.elements()),
            "max_in_flight": self.max_in_flight,
            "api_requests": self.api_requests,
            "pending_mutations": len(self.mutations),
        }
