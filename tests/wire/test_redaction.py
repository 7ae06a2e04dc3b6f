"""One redaction point: every log record and error message, every secret and token shape.

Issue 8 item 8: a 4xx body was put into exceptions and logs verbatim (a body echoing a bearer
token or the secret showed it); the redactor only knew `key: value` and `key=value` shapes.
"""

from __future__ import annotations

import html
import io
import json
import logging
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from singer_sdk.logging import ConsoleFormatter, StructuredFormatter

from coupa_api import redact as redaction
from coupa_api.redact import MASK, RedactingFilter, install_log_redaction, redact, register
from tests.tap.conftest import discover, select, tap_config
from tests.wire.conftest import run_plugin

# Secrets as a user may choose them: no brackets (they could only collide with the mask).
SECRET_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc", "Zs"), exclude_characters="[]"
)
SECRETS = st.text(SECRET_CHARS, min_size=8, max_size=40).filter(lambda s: s.strip() == s)
TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
TOKENS = st.builds(
    lambda a, b, c: f"eyJ{a}.{b}.{c}",
    st.text(TOKEN_CHARS, min_size=8, max_size=30),
    st.text(TOKEN_CHARS, min_size=8, max_size=60),
    st.text(TOKEN_CHARS, min_size=8, max_size=40),
)
OPAQUE = st.text(TOKEN_CHARS + ".~+/", min_size=12, max_size=40)
NOISE = st.text(st.characters(codec="utf-8", exclude_characters="[]"), max_size=30)
KEYS = st.sampled_from(
    ["access_token", "client_secret", "refresh_token", "token", "password", "secret",
     "access-token", "Client-Secret", "ACCESS_TOKEN", "api_key"]
)  # fmt: skip


def _encodings(value: str) -> list[str]:
    return [value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]]


@st.composite
def secret_in_context(draw: st.DrawFn, values: st.SearchStrategy[str]) -> tuple[str, str]:
    """(value, text) where text shows the value the way a message, URL or body might."""
    value = draw(values)
    key = draw(KEYS)
    shapes = [
        value,
        f"Authorization: Bearer {value}",
        f"bearer {value}",
        json.dumps({key: value}),
        json.dumps({"errors": {"error": [f"{key}={value}"]}}),
        json.dumps(json.dumps({key: value})),  # JSON inside a JSON string
        repr({key: value}),
        f"https://acme.coupahost.com/oauth2/token?{urlencode({key: value})}&x=1",
        urlencode({"grant_type": "client_credentials", key: value}),
        f"<{key}>{html.escape(value)}</{key}>",
        f"<errors><error>token {html.escape(value)} rejected</error></errors>",
        f'<input name="{key}" value="{html.escape(value)}">',
        f"{key}: {value}",
        f'{key}="{value}"',
        f"{key}='{value}'",
        quote(json.dumps({key: value}), safe=""),
    ]
    shape = draw(st.sampled_from(shapes))
    return value, draw(NOISE) + shape + draw(NOISE)


@pytest.fixture(autouse=True)
def _clean_registry():
    redaction.forget_all()
    yield
    redaction.forget_all()


@settings(max_examples=200, deadline=500)
@given(secret_in_context(SECRETS))
def test_a_registered_secret_never_survives_in_any_shape(case):
    secret, text = case
    assume(secret not in MASK)
    register(secret)
    out = redact(text)
    for form in _encodings(secret):
        if len(form) >= redaction.MIN_SECRET_LENGTH:
            assert form not in out


@settings(max_examples=200, deadline=500)
@given(secret_in_context(TOKENS))
def test_a_token_shape_is_masked_without_being_registered(case):
    token, text = case
    out = redact(text)
    assert token not in out
    assert "eyJ" not in out


SHAPES = st.sampled_from(["json", "query", "xml", "header", "form", "repr", "userinfo"])


def shaped(key: str, value: str, shape: str) -> str:
    """`value` under `key` the way one kind of output carries it."""
    return {
        "json": json.dumps({key: value, "other": 1}),
        "query": f"/api/x?{key}={quote_plus(value)}&page=2",
        "xml": f"<{key}>{value}</{key}>",
        "header": f"Authorization: Bearer {value}",
        "form": f"grant_type=client_credentials&{key}={quote_plus(value)}",
        "repr": repr({key: value}),
        "userinfo": f"GET https://integration:{quote(value, safe='')}@acme.coupahost.com/api",
    }[shape]


@settings(max_examples=150, deadline=500)
@given(KEYS, OPAQUE, SHAPES)
def test_an_unregistered_opaque_value_under_a_secret_key_is_masked(key, value, shape):
    # A value that the surrounding text holds anyway ("client_crede" in
    # "grant_type=client_credentials") cannot be asked to vanish from it.
    assume(value not in shaped(key, "", shape))
    assert value not in redact(shaped(key, value, shape))


@settings(max_examples=200, deadline=500)
@given(st.text(max_size=200))
def test_redaction_never_raises_and_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once


def test_ordinary_words_are_left_alone():
    text = "Basic information; token_settle_seconds=5; the secret of success; 401 invalid_token"
    assert redact(text) == text


# -- the log filter ---------------------------------------------------------------------------
def _capture(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"wire-test-{id(stream)}")
    logger.propagate = False
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    return logger, stream


@pytest.mark.parametrize("formatter", [ConsoleFormatter(), StructuredFormatter()])
def test_every_part_of_a_record_is_redacted(formatter):
    secret = "Log-Secret-5f1e/+="
    register(secret)
    logger, stream = _capture(formatter)
    install_log_redaction()
    assert any(isinstance(f, RedactingFilter) for f in logger.handlers[0].filters)
    try:
        try:
            raise ValueError(f"body echoed client_secret={secret}")
        except ValueError as exc:
            raise RuntimeError("while minting", {"form": quote_plus(secret)}) from exc
    except RuntimeError:
        logger.exception("failed for %s with %r", secret, {"access_token": "eyJabc.def.ghi"})
    logger.info("extra field", extra={"detail": f"Bearer {secret}"})
    out = stream.getvalue()
    assert secret not in out
    assert quote_plus(secret) not in out
    assert "eyJabc" not in out
    assert MASK in out


def test_metric_records_keep_their_shape():
    from singer_sdk import metrics  # noqa: PLC0415

    install_log_redaction()
    logger, stream = _capture(StructuredFormatter())
    point = metrics.Point("timer", metrics.Metric.HTTP_REQUEST_DURATION, 0.1, {"endpoint": "/x"})
    logger.info("METRIC: %s", point)
    assert json.loads(stream.getvalue())["metric_info"]["tags"] == {"endpoint": "/x"}


# -- end to end: what Coupa echoes never reaches the log ----------------------------------
ECHO_SECRET = "Echo/Secret+Value=1&2"


@pytest.mark.parametrize("structured", [False, True], ids=["console", "structured-json"])
def test_coupa_echoing_credentials_is_redacted(coupa, tmp_path, structured):
    coupa.control.add_client("echo", ECHO_SECRET, ["core.invoice.read", "core.common.read"])
    config = tap_config(coupa.base_url, client_id="echo", client_secret=ECHO_SECRET)
    catalog = select(discover(config), ["invoices"])
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    coupa.control.add_faults(
        # Every request to the collection: which of the run's first requests (tenant check,
        # first page, newest-id probe) reaches Coupa first is up to the threads.
        [{"kind": "status", "path": "/api/invoices", "status": 400, "body": "echo", "times": 50}]
    )
    env = {}
    if structured:
        log_config = tmp_path / "logging.yml"
        log_config.write_text(
            "version: 1\ndisable_existing_loggers: false\nformatters:\n  json:\n"
            "    (): singer_sdk.logging.StructuredFormatter\nhandlers:\n  err:\n"
            "    class: logging.StreamHandler\n    formatter: json\n    stream: ext://sys.stderr\n"
            "root:\n  level: INFO\n  handlers: [err]\n"
        )
        env["SINGER_SDK_LOG_CONFIG"] = str(log_config)
    result = run_plugin(
        "tap-coupa", ["--catalog", str(tmp_path / "catalog.json")], config, tmp_path, env=env
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Rejected request" in result.stderr  # Coupa's words are kept...
    out = result.stdout + result.stderr
    for form in _encodings(ECHO_SECRET):
        assert form not in out  # ...but not the secret, in any encoding
    assert "eyJ" not in out  # nor the bearer token the gateway echoed


def test_token_endpoint_echo_is_redacted(coupa, tmp_path):
    coupa.control.add_client("echo2", ECHO_SECRET, ["core.common.read"])
    coupa.control.add_faults(
        [{"kind": "status", "path": "/oauth2/token", "status": 400, "body": "echo", "times": 99}]
    )
    config = tap_config(coupa.base_url, client_id="echo2", client_secret=ECHO_SECRET)
    result = run_plugin("tap-coupa", ["--discover"], config, tmp_path)
    assert result.returncode == 1
    assert "Rejected request" in result.stderr
    for form in _encodings(ECHO_SECRET):
        assert form not in result.stderr
