"""Rate-limit hints on the wire (issue 14): every form read, every malformed one ignored.

coupa_api.ratelimit_headers is pure, so these are plain unit tests; the runs against the
emulator's quota knob are in tests/tap/test_rate_control.py.
"""

from __future__ import annotations

import email.utils
import time

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from coupa_api.ratelimit import MAX_PAUSE_SECONDS, RateController, burst_for
from coupa_api.ratelimit_headers import Quota, parse_quota, retry_after_seconds
from coupa_api.retry import RetryPolicy

NOW = 1_750_000_000.0  # a fixed wall clock for epoch resets


def quota(**headers: str) -> Quota | None:
    names = {k.replace("_", "-"): v for k, v in headers.items()}
    return parse_quota(CaseInsensitiveDict(names), NOW)


# -- Retry-After ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("3600", 3600.0),
        ("10000000000", 1e10),
        (email.utils.formatdate(NOW + 30, usegmt=True), 30.0),
        (email.utils.formatdate(NOW - 30, usegmt=True), 0.0),  # a date already past: no wait
    ],
)
def test_retry_after_reads_seconds_and_dates(value: str, expected: float) -> None:
    assert retry_after_seconds(value, NOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "soon",
        "-5",
        "+5",
        "1e10",
        "5 s",
        "NaN",
        "inf",
        "١٢",  # Arabic-Indic digits: str.isdigit() says yes, float() would raise
        "²",
        "Wed, 21 Oct 99999 07:28:00 GMT",
        "Wed, 32 Oct 2015 07:28:00 GMT",
        "9" * 5000,
    ],
)
def test_retry_after_garbage_is_ignored_not_raised(value: str | None) -> None:
    assert retry_after_seconds(value, NOW) is None


def test_a_huge_retry_after_is_capped_wherever_it_is_waited() -> None:
    response = requests.Response()
    response.status_code = 429
    for value in ("10000000000", "9" * 400):  # the second is inf as a float
        response.headers["Retry-After"] = value
        exc = type("Throttled", (Exception,), {"response": response})()
        assert RetryPolicy(max_time_seconds=10).wait_for(exc, 1) == 10
        assert RetryPolicy(max_time_seconds=600).wait_for(exc, 1) == 60
        controller = RateController(None, max_pause=10)
        controller.observe(429, retry_after_seconds(value, NOW))  # no OverflowError
        assert 0 < controller.counters().paused_seconds <= 10


# -- the RateLimit families -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # draft-ietf-httpapi-ratelimit-headers, structured fields (draft 08 and later)
        (
            {"RateLimit-Policy": '"default";q=100;w=10', "RateLimit": '"default";r=50;t=30'},
            Quota(50, 30, 100, 10, "ietf"),
        ),
        ({"RateLimit": '"default";r=0;t=7'}, Quota(0, 7, None, None, "ietf")),
        ({"ratelimit": "default;r=3;t=1"}, Quota(3, 1, None, None, "ietf")),  # a token name
        # no reset given: the policy's window bounds it
        (
            {"RateLimit-Policy": '"p";q=10;w=60', "RateLimit": '"p";r=2'},
            Quota(2, 60, 10, 60, "ietf"),
        ),
        # two policies: the one that binds first wins
        (
            {
                "RateLimit-Policy": '"burst";q=100;w=60, "day";q=1000;w=86400',
                "RateLimit": '"burst";r=40;t=20, "day";r=0;t=3600',
            },
            Quota(0, 3600, 1000, 86400, "ietf"),
        ),
        # partition keys and unknown parameters are fine
        ({"RateLimit": '"default";r=5;t=2;pk=:cHsxMjM=:;x="y"'}, Quota(5, 2, None, None, "ietf")),
        # draft 07: one dictionary
        (
            {"RateLimit": "limit=100, remaining=50, reset=30"},
            Quota(50, 30, 100, None, "ietf-dictionary"),
        ),
        # the earlier drafts' three fields, with a policy giving the window
        (
            {
                "RateLimit-Limit": "100",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": "12",
                "RateLimit-Policy": "100;w=60",
            },
            Quota(0, 12, 100, 60, "ratelimit"),
        ),
        (
            {"RateLimit-Limit": "100, 100;w=60", "RateLimit-Remaining": "9"},
            Quota(9, None, 100, None, "ratelimit"),
        ),
        # X-RateLimit-*: Reset as delta seconds, epoch seconds or epoch milliseconds
        (
            {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "5"},
            Quota(1, 5, 60, None, "x-ratelimit"),
        ),
        (
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW + 42))},
            Quota(0, 42, None, None, "x-ratelimit"),
        ),
        (
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int((NOW + 8) * 1000))},
            Quota(0, 8, None, None, "x-ratelimit"),
        ),
        (  # an epoch already past: nothing to wait for
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW - 100))},
            Quota(0, 0, None, None, "x-ratelimit"),
        ),
        # the IETF field wins over the de-facto ones when both are sent
        (
            {"RateLimit": '"d";r=1;t=3', "X-RateLimit-Remaining": "99"},
            Quota(1, 3, None, None, "ietf"),
        ),
    ],
)
def test_every_form_is_read(headers: dict[str, str], expected: Quota) -> None:
    found = parse_quota(CaseInsensitiveDict(headers), NOW)
    assert found is not None
    assert found.source == expected.source
    for name in ("remaining", "reset", "limit", "window"):
        want, got = getattr(expected, name), getattr(found, name)
        assert got == (None if want is None else pytest.approx(want)), name


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"RateLimit": ""},
        {"RateLimit": '"default";r=-1;t=30'},
        {"RateLimit": '"default";r=abc;t=30'},
        {"RateLimit": '"default;r=5;t=3'},  # an open quote
        {"RateLimit": '"default";r=?1;t=3'},  # a boolean where a number belongs
        {"RateLimit": "limit=100, reset=30"},  # no remaining
        {"RateLimit": "remaining=NaN, reset=3"},
        {"RateLimit": ";;;,,,==="},
        {"RateLimit": "x" * 10_000},
        {"RateLimit-Policy": '"default";q=100;w=10'},  # a policy alone says nothing left
        {"RateLimit-Remaining": "lots"},
        {"RateLimit-Remaining": "-3", "RateLimit-Reset": "5"},
        {"X-RateLimit-Remaining": "1e3", "X-RateLimit-Reset": "5"},
        {"X-RateLimit-Remaining": "٣", "X-RateLimit-Reset": "5"},
        {"X-RateLimit-Limit": "100", "X-RateLimit-Reset": "5"},
    ],
)
def test_malformed_headers_are_ignored(headers: dict[str, str]) -> None:
    assert parse_quota(CaseInsensitiveDict(headers), NOW) is None


def test_a_malformed_reset_keeps_what_is_readable() -> None:
    found = quota(X_RateLimit_Remaining="4", X_RateLimit_Reset="tomorrow")
    assert found == Quota(4, None, None, None, "x-ratelimit")


# -- the controller ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rate", "burst"), [(25, 20), (100, 20), (10, 8), (8, 6), (4, 3), (2, 2), (1, 1), (0.2, 1)]
)
def test_the_burst_scales_with_the_rate(rate: float, burst: int) -> None:
    assert burst_for(rate) == burst
    assert RateController(rate).burst == burst


def test_no_permit_accrues_during_a_pause() -> None:
    """Clock values are passed in, so nothing here depends on how fast threads wake up."""
    controller = RateController(10, max_pause=5)  # burst 8
    controller.observe(429, retry_after=5)  # the rate drops to 7/s; the bucket is emptied
    start = time.monotonic()
    # Four seconds into the pause: still nothing saved up (28 permits' worth of time passed).
    assert controller._permit_wait(start + 4.0) > 0
    # Just after it: only what 0.1 s at 7/s earns, under a permit, not a burst of 8.
    assert controller._permit_wait(start + 5.1) > 0
    assert controller._tokens < 1


def test_a_spent_quota_pauses_until_the_reset_bounded_by_max_pause() -> None:
    controller = RateController(None, max_pause=0.3)
    controller.observe(200, quota=Quota(remaining=0, reset=3600))
    paused = controller.counters()
    assert paused.quota_waits == 1
    assert paused.paused_seconds == pytest.approx(0.3, abs=0.01)


def test_the_quota_counts_down_requests_in_flight() -> None:
    controller = RateController(None, max_pause=0.25)
    with controller.permit(), controller.permit(), controller.permit():
        # Three on the wire: the answer to one says 2 left, but two others may take them.
        controller.observe(200, quota=Quota(remaining=2, reset=30))
        assert controller.counters().quota_waits == 1
    fresh = RateController(None, max_pause=0.25)
    fresh.observe(200, quota=Quota(remaining=2, reset=30))
    fresh.acquire()
    assert fresh.counters().quota_waits == 0
    fresh.acquire()  # the window's last request: the next one waits for the reset
    assert fresh.counters().quota_waits == 1


@pytest.mark.parametrize("status", [200, 429])
def test_headers_without_remaining_or_reset_change_nothing(status: int) -> None:
    controller = RateController(None)
    for hint in (Quota(remaining=0), Quota(reset=30), Quota(limit=5, window=1)):
        controller.observe(status, quota=hint)
    assert controller.counters().paused_seconds == 0


def test_max_pause_never_exceeds_the_documented_cap() -> None:
    assert RateController(None, max_pause=86400).max_pause == MAX_PAUSE_SECONDS
