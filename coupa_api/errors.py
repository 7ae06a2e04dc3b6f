"""Errors the connectors raise, each carrying a message a user can act on.

They subclass singer-sdk's own API errors so that the SDK's retry machinery and the Meltano
logs treat them as usual; the message is always one redacted paragraph.
"""

from __future__ import annotations

from typing import ClassVar

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from coupa_api.exitcodes import ExitCode
from coupa_api.redact import redact

__all__ = [
    "CoupaAuthError",
    "CoupaError",
    "CoupaFatalError",
    "CoupaRetriableError",
    "CoupaScopeError",
    "FatalAPIError",
    "RetriableAPIError",
]


class CoupaError(Exception):
    """Marker for every error whose message is written for the user (no traceback needed)."""

    #: The process exit code when this error ends a run (coupa_api.cli).
    exit_code: ClassVar[ExitCode] = ExitCode.FAILED

    def __str__(self) -> str:
        """The message, through the one redaction point (Coupa's words may echo a secret)."""
        return redact(super().__str__())


class CoupaFatalError(FatalAPIError, CoupaError):
    """Coupa refused a request and retrying will not help.

    `status` is the HTTP status (None when no response arrived) and `coupa_errors` holds
    Coupa's own validation messages, flattened from `{"errors": {"<resource>": [...]}}`.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        coupa_errors: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.coupa_errors = [redact(e) for e in coupa_errors or []]


class CoupaScopeError(CoupaFatalError):
    """The token lacks a scope that the call needs (HTTP 403)."""

    def __init__(self, message: str, *, scope: str | None) -> None:
        super().__init__(message, status=403)
        self.scope = scope


class CoupaAuthError(CoupaFatalError):
    """The token endpoint refused the client credentials or the requested scopes."""


class CoupaRetriableError(RetriableAPIError, CoupaError):
    """A transient failure (429, 5xx, a body that is not the JSON Coupa promised)."""
