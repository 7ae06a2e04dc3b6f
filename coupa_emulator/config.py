"""The emulator's knobs, one dataclass shared by the CLI, the server and the control API."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from coupa_emulator.quota import HEADER_STYLES
from coupa_emulator.resources import RESOURCES

PROFILES: tuple[str, ...] = ("acme", "globex")

# Knobs that only change behaviour (configure); the others regenerate data (reset).
BEHAVIOUR_KNOBS: frozenset[str] = frozenset(
    {
        "latency_ms",
        "rate_limit",
        "burst",
        "retry_after",
        "quota",
        "quota_window",
        "rate_limit_headers",
        "settle_seconds",
        "expires_in",
        "stable_order",
        "clock_offset_seconds",
        "missing_collections",
        "unlicensed_collections",
        "failing_collections",
        "vanishing_parents",
    }
)


class ConfigError(ValueError):
    """A knob value the emulator cannot honour; the message is one readable sentence."""


def tenant_problem(config: EmulatorConfig) -> None:
    """Raise ConfigError for an unusable tenant knob (paths under /api/, known parents)."""
    for knob in ("missing_collections", "unlicensed_collections", "failing_collections"):
        paths = getattr(config, knob)
        if not isinstance(paths, list) or not all(
            isinstance(p, str) and (p + "/").startswith("/api/") and p == p.strip() for p in paths
        ):
            raise ConfigError(f"{knob} must be a list of paths under /api, got {paths!r}")
    parents = config.vanishing_parents
    if not isinstance(parents, dict):
        raise ConfigError(f"vanishing_parents must be an object, got {parents!r}")
    for name, ids in parents.items():
        if name not in RESOURCES:
            raise ConfigError(f"vanishing_parents names an unknown resource {name!r}")
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise ConfigError(f"vanishing_parents[{name!r}] must be a list of ids, got {ids!r}")


def quota_problem(config: EmulatorConfig) -> None:
    """Raise ConfigError for an unusable quota knob (coupa_emulator/quota.py)."""
    quota, window = config.quota, config.quota_window
    if quota is not None and (isinstance(quota, bool) or not isinstance(quota, int) or quota < 1):
        raise ConfigError(f"quota must be a whole number >= 1 (or null for off), got {quota!r}")
    if isinstance(window, bool) or not isinstance(window, int | float) or not 0 < window <= 86400:
        raise ConfigError(f"quota_window must be between 0 and 86400 s, got {window!r}")
    if config.rate_limit_headers not in HEADER_STYLES:
        raise ConfigError(
            f"rate_limit_headers must be one of {', '.join(HEADER_STYLES)}, "
            f"got {config.rate_limit_headers!r}"
        )


@dataclass
class EmulatorConfig:
    """Every knob of one emulator instance (defaults mirror a real Coupa instance)."""

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 7
    scale: int = 500
    counts: dict[str, int] | None = None
    tenant_profile: str = "acme"
    settle_seconds: float = 5.0
    expires_in: int = 86399
    latency_ms: float = 0.0
    rate_limit: float | None = None
    burst: int = 20
    retry_after: float | None = None
    #: A gateway's quota (coupa_emulator/quota.py): `quota` requests per `quota_window`
    #: seconds per client (None: off), reported in the `rate_limit_headers` style.
    quota: int | None = None
    quota_window: float = 60.0
    rate_limit_headers: str = "none"
    faults: list[dict[str, Any]] = field(default_factory=list)
    stable_order: bool = False
    #: Seconds added to the instance's clock (new `updated-at` values and the `Date` header),
    #: to play a Coupa whose clock disagrees with the client host's.
    clock_offset_seconds: float = 0.0
    #: A tenant that differs from the documentation (coupa_emulator/tenant.py): collection
    #: paths (`/api/budget_lines`, `/api/suppliers/{id}/addresses`) answering 404 "No route
    #: matches", 403 (a module not licensed) or 503 to every request...
    missing_collections: list[str] = field(default_factory=list)
    unlicensed_collections: list[str] = field(default_factory=list)
    failing_collections: list[str] = field(default_factory=list)
    #: ...and parents deleted between a client's read of their page and of their sub-resource:
    #: {"suppliers": [17, 23]} deletes supplier 17 when `/api/suppliers/17/...` is requested.
    vanishing_parents: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Reject impossible values early, with a sentence instead of a traceback later."""
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be between 0 and 65535, got {self.port}")
        if self.scale < 0:
            raise ConfigError(f"scale must be >= 0, got {self.scale}")
        if self.tenant_profile not in PROFILES:
            raise ConfigError(
                f"tenant_profile must be one of {', '.join(PROFILES)}, got {self.tenant_profile!r}"
            )
        if self.settle_seconds < 0:
            raise ConfigError(f"settle_seconds must be >= 0, got {self.settle_seconds}")
        if self.expires_in < 1:
            raise ConfigError(f"expires_in must be >= 1, got {self.expires_in}")
        if self.latency_ms < 0:
            raise ConfigError(f"latency_ms must be >= 0, got {self.latency_ms}")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ConfigError(f"rate_limit must be > 0 (or null for off), got {self.rate_limit}")
        if self.burst < 1:
            raise ConfigError(f"burst must be >= 1, got {self.burst}")
        if self.retry_after is not None and self.retry_after < 0:
            raise ConfigError(f"retry_after must be >= 0, got {self.retry_after}")
        quota_problem(self)
        tenant_problem(self)
        for name, n in (self.counts or {}).items():
            if name not in RESOURCES:
                raise ConfigError(f"counts names an unknown resource {name!r}")
            if not isinstance(n, int) or n < 0:
                raise ConfigError(f"counts[{name!r}] must be a non-negative integer, got {n!r}")

    def replaced(self, **knobs: Any) -> EmulatorConfig:
        """A copy with `knobs` changed; unknown knob names are an error, not ignored."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(knobs) - names)
        if unknown:
            raise ConfigError(f"unknown knob(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **knobs)
