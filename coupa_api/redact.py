"""Keep secrets out of every message the connectors print."""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Bearer tokens and anything JWT-shaped (three base64url parts).
    (re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [REDACTED]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[REDACTED-TOKEN]"),
    # key=value and "key": "value" pairs whose key names a secret.
    (
        re.compile(
            r"(?i)(client_secret|access_token|refresh_token|password|secret)"
            r"(\"?\s*[:=]\s*\"?)([^\"&\s,}]+)"
        ),
        r"\1\2[REDACTED]",
    ),
)


def redact(text: str, *secrets: str | None) -> str:
    """Return `text` with tokens, secret-looking pairs and the given literal secrets masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[REDACTED]")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def excerpt(text: str, limit: int = 240) -> str:
    """A one-line, redacted, bounded excerpt of a response body for an error message."""
    flat = " ".join(text.split())
    flat = redact(flat)
    return flat if len(flat) <= limit else flat[:limit] + "…"
