"""The one redaction point: every log record and error message passes through `redact`.

Two nets, so that a secret cannot leak by a path nobody thought of:
- the run's actual secrets, registered when the config is read (every setting marked secret)
  and when a token is minted, are masked wherever they appear, also url-encoded, JSON-, XML-
  or repr-escaped;
- shapes that are secrets whatever their value (a bearer or basic credential, a JWT, the value
  of a key such as `access_token` or `client_secret` in JSON, a query string, a form, XML) are
  masked even when the value was never registered (a token Coupa echoes from another client).

`install_log_redaction` puts it in front of every handler (and in the log-record factory, so
handlers configured later by `SINGER_SDK_LOG_CONFIG` or a library are covered too).
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "[REDACTED]"
#: Shorter values are not masked literally: masking "abc" everywhere would garble every log.
MIN_SECRET_LENGTH = 4

_KEY = (
    r"(?:client[_-]?secret|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token"
    r"|api[_-]?key|password|passwd|secret|token)"
)
_ANY_QUOTE = r"(?:\"|'|\\\"|&quot;|&\#39;|%22|%27)"
_SEPARATOR = rf"{_ANY_QUOTE}?\s*(?::|=|%3A|%3D)\s*"
#: (opening quote, what may stand between it and the closing one), one per quoting style.
_QUOTED = (
    (r"\\\"", r"(?:(?!\\\")[^\n])*"),  # JSON inside a JSON string: \"value\"
    (r"\"", r"(?:[^\"\\\n]|\\.)*"),
    (r"'", r"(?:[^'\\\n]|\\.)*"),
    (r"&quot;", r"(?:(?!&quot;)[^<\n])*"),
    (r"&\#39;", r"(?:(?!&\#39;)[^<\n])*"),
    (r"%22", r"(?:(?!%22)[^&\s])*"),
    (r"%27", r"(?:(?!%27)[^&\s])*"),
)
_UNQUOTED = r"(?:(?!%22|%26|%27|%2C|&quot;|&\#39;)[^\"'&\s,;}<>\])\\])+"
_LEFT = r"(?<![A-Za-z0-9])"


@functools.cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The shape patterns, compiled on first use (thread-safe: a race compiles them twice).

    Compiling them is the dearest import of the tap's `--about` path, and most runs never
    log a line with a trigger word.
    """
    return (
        # Authorization credentials in a header, a log line or a url-encoded form.
        (re.compile(r"(?i)\b(bearer)(\s+|%20|\+)[A-Za-z0-9._~+/=%-]+"), r"\1\2" + MASK),
        (
            re.compile(
                r"\b(Basic)(\s+|%20|\+)(?=[A-Za-z0-9+/]*(?:[0-9+/=]|[a-z][A-Z]))[A-Za-z0-9+/]{6,}={0,2}"
            ),
            r"\1\2" + MASK,
        ),
        # A password in a URL's userinfo: https://user:password@host
        (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@\[\]]+:)[^@\s/]+@"), r"\1" + MASK + "@"),
        # Anything JWT-shaped: base64url parts, the first starting with '{"' encoded.
        (re.compile(r"eyJ[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){1,2}"), MASK),
        # XML/HTML elements named for a secret: <access_token>v</access_token>, <client-secret>.
        (
            re.compile(rf"(?i)(<\s*(?:[\w-]+:)?{_KEY}\b[^>]*>)(?:<!\[CDATA\[.*?\]\]>|[^<]*)"),
            r"\1" + MASK,
        ),
        # "key": "value", 'key': 'value', \"key\": \"value\", &quot;key&quot;:..., key=%22value%22
        *(
            (
                re.compile(rf"(?i)({_LEFT}{_KEY}{_SEPARATOR}{quote_re})(?!\[REDACTED\]){body}"),
                r"\1" + MASK,
            )
            for quote_re, body in _QUOTED
        ),
        # key=value, key: value, key%3Dvalue (unquoted: up to a delimiter)
        (
            re.compile(rf"(?i)({_LEFT}{_KEY}{_SEPARATOR})(?!{_ANY_QUOTE}|\[REDACTED\]){_UNQUOTED}"),
            r"\1" + MASK,
        ),
    )


#: Every pattern above needs one of these (lower-cased) in the text; most log lines have none.
_TRIGGERS = ("bearer", "basic", "eyj", "secret", "token", "passw", "api", "key", "://")

_lock = threading.Lock()
_registered: set[str] = set()
_literals: tuple[str, ...] = ()  # every registered value and its encodings, longest first


def _variants(secret: str) -> set[str]:
    """`secret` as it may appear in a URL, a form, JSON, XML/HTML or a Python repr."""
    import html  # noqa: PLC0415 - only when a secret is registered; keeps it off `--about`

    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
        html.escape(secret, quote=False),
        repr(secret)[1:-1],
    }
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def register(*secrets: object) -> None:
    """Mask these values (strings, or the string leaves of lists/dicts/numbers) from now on."""
    global _literals  # noqa: PLW0603 - one registry per process, shared by every thread
    found = set(_leaves(secrets))
    with _lock:
        new = found - _registered
        if not new:
            return
        _registered.update(new)
        forms: set[str] = set(_literals)
        for value in new:
            forms |= _variants(value)
        _literals = tuple(sorted(forms, key=len, reverse=True))


def register_config(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Register the value of every setting the schema marks secret; return those settings."""
    names = secret_settings(schema)
    register(*(config.get(name) for name in names))
    return names


def secret_settings(schema: Mapping[str, Any]) -> list[str]:
    """Top-level settings marked `secret` (or `writeOnly`) in a plugin's config schema."""
    properties = schema.get("properties") or {}
    return sorted(
        name
        for name, prop in properties.items()
        if isinstance(prop, Mapping) and (prop.get("secret") or prop.get("writeOnly"))
    )


def forget_all() -> None:
    """Empty the registry (tests; a process runs one connector, so nothing else needs it)."""
    global _literals  # noqa: PLW0603
    with _lock:
        _registered.clear()
        _literals = ()


def _leaves(values: Iterable[object]) -> Iterable[str]:
    for value in values:
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, str):
            if len(value) >= MIN_SECRET_LENGTH:
                yield value
        elif isinstance(value, Mapping):
            yield from _leaves(value.values())
        elif isinstance(value, list | tuple | set):
            yield from _leaves(value)
            yield from _leaves([repr(value), json.dumps(value, default=str)])
        else:
            yield from _leaves([str(value), repr(value)])


def redact(text: str, *secrets: str | None) -> str:
    """`text` with registered and given secrets, tokens and secret-looking pairs masked."""
    extra = [s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH]
    literals = _literals
    if extra:
        forms: set[str] = set(literals)
        for secret in extra:
            forms |= _variants(secret)
        literals = tuple(sorted(forms, key=len, reverse=True))
    for literal in literals:
        if literal in text:
            text = text.replace(literal, MASK)
    lowered = text.lower()
    if not any(trigger in lowered for trigger in _TRIGGERS):
        return text
    for pattern, replacement in _patterns():
        text = pattern.sub(replacement, text)
    return text


def excerpt(text: str, limit: int = 240) -> str:
    """A one-line, redacted, bounded excerpt of a response body for an error message."""
    flat = " ".join(text.split())
    flat = redact(flat)
    return flat if len(flat) <= limit else flat[:limit] + "…"


# -- logging ------------------------------------------------------------------------------------
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
}


def redact_exception(exc: BaseException, depth: int = 0) -> BaseException:
    """`exc`, or a copy whose message (and causes') are redacted when they held a secret."""
    if depth > 8:
        return exc
    text = _safe_str(exc)
    clean = redact(text)
    cause = redact_exception(exc.__cause__, depth + 1) if exc.__cause__ else None
    context = redact_exception(exc.__context__, depth + 1) if exc.__context__ else None
    if clean == text and cause is exc.__cause__ and context is exc.__context__:
        return exc
    try:
        clone = copy.copy(exc)
        clone.args = (clean,)
    except Exception:
        clone = RuntimeError(f"{type(exc).__name__}: {clean}")
    clone.__cause__, clone.__context__ = cause, context
    clone.__traceback__ = exc.__traceback__
    return clone


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:
        return repr(value)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask secrets in a record's message, arguments, exception and extra fields, in place.

    Idempotent: the record factory runs it at creation, the handler filter again at emit,
    then only for the `extra=` fields added since.
    """
    if getattr(record, "_coupa_redacted", False):
        _redact_extras(record)
        return record
    point = record.args[0] if isinstance(record.args, tuple) and record.args else None
    if record.msg == "METRIC: %s" and hasattr(point, "tags"):
        # Keep the metric object (structured logging reads it); mask its tag values.
        tags = point.tags
        for key, value in list(tags.items()):
            tags[key] = redact(value) if isinstance(value, str) else value
    else:
        try:
            message = record.getMessage()
        except Exception:
            message = _safe_str(record.msg)
        record.msg = redact(message)
        record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        exc_type, exc, tb = record.exc_info
        record.exc_info = (exc_type, redact_exception(exc), tb)
        if not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    _redact_extras(record)
    record._coupa_redacted = True
    return record


def _redact_extras(record: logging.LogRecord) -> None:
    for key, value in list(vars(record).items()):
        if key not in _STANDARD_ATTRS and isinstance(value, str):
            setattr(record, key, redact(value))


class RedactingFilter(logging.Filter):
    """A handler filter that masks secrets in every record and never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place, keep the record."""
        redact_record(record)
        return True


_FILTER = RedactingFilter()
_factory_installed = False


def install_log_redaction() -> None:
    """Redact every log record of this process: in the record factory and on every handler.

    Idempotent. The factory covers handlers configured later; the handler filters cover
    records that a library builds by hand (`logging.makeLogRecord`) and hands to a handler.
    """
    global _factory_installed  # noqa: PLW0603
    with _lock:
        if not _factory_installed:
            factory = logging.getLogRecordFactory()

            def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                return redact_record(factory(*args, **kwargs))

            logging.setLogRecordFactory(redacting_factory)
            _factory_installed = True
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in list(logging.Logger.manager.loggerDict.values())
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
