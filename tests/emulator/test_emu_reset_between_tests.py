"""The per-test reset: a request an earlier test left held must not land in the next test."""

from __future__ import annotations

import contextlib
import time

import requests

from coupa_emulator.server import RunningEmulator
from tests.conftest import reset_for_test


def test_a_held_post_from_an_earlier_test_is_not_logged_in_the_next(
    emulator: RunningEmulator,
) -> None:
    # What test_target_pool leaves behind: a POST held by a `slow` fault, its target gone.
    emulator.control.reset(
        faults=[{"kind": "slow", "path": "/api/invoices", "method": "POST", "delay_s": 1.0}]
    )
    with contextlib.suppress(requests.Timeout):
        requests.post(f"{emulator.base_url}/api/invoices", json={}, timeout=0.2)
    deadline = time.monotonic() + 10
    while "POST /api/invoices" not in emulator.control.stats()["serving"]:
        assert time.monotonic() < deadline, "the POST never reached the emulator"
        time.sleep(0.02)

    reset_for_test(emulator)  # the next test starts

    deadline = time.monotonic() + 10
    while emulator.control.stats()["serving"]:
        assert time.monotonic() < deadline, "the held POST never finished"
        time.sleep(0.02)
    assert [r for r in emulator.control.requests_log() if r["path"] == "/api/invoices"] == []
