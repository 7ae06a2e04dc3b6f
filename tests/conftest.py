"""Shared fixtures: one in-process Coupa emulator per session, reset before each test."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from coupa_emulator.config import EmulatorConfig
from coupa_emulator.server import RunningEmulator, start_in_thread

# `.venv/bin/pytest` does not put the repository root on sys.path; `from tests.x import y`
# (used by tap and target tests) needs it.
REPO_ROOT = str(Path(__file__).resolve().parents[1])
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

EMULATOR_SEED = 7
EMULATOR_SCALE = 120


@pytest.fixture(scope="session")
def emulator() -> Iterator[RunningEmulator]:
    """One emulator for the whole session (settle window off, 120 invoices, fixed seed)."""
    running = start_in_thread(
        EmulatorConfig(seed=EMULATOR_SEED, scale=EMULATOR_SCALE, settle_seconds=0)
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def coupa(emulator: RunningEmulator) -> RunningEmulator:
    """The session emulator, reset to its start data and knobs before this test."""
    emulator.control.reset()
    return emulator


def make_oauth_client(
    running: RunningEmulator, scopes: list[str], client_id: str | None = None
) -> tuple[str, str]:
    """Register a client granted exactly `scopes`; returns (client_id, client_secret)."""
    client_id = client_id or f"client-{uuid.uuid4().hex[:8]}"
    secret = f"{client_id}-secret"
    running.control.add_client(client_id, secret, scopes)
    return client_id, secret


@pytest.fixture
def oauth_client(coupa: RunningEmulator) -> Callable[..., tuple[str, str]]:
    """`oauth_client(["core.invoice.read"])` -> (client_id, client_secret) on the emulator."""

    def make(scopes: list[str], client_id: str | None = None) -> tuple[str, str]:
        return make_oauth_client(coupa, scopes, client_id)

    return make


def fetch_token(
    base_url: str,
    client_id: str = "demo",
    secret: str = "demo-secret",  # noqa: S107 - the emulator's documented demo client
    scope: str | None = None,
) -> str:
    """Mint an access token with form credentials (the documented style)."""
    data = {"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    response = requests.post(f"{base_url}/oauth2/token", data=data, timeout=30)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def mint_token(coupa: RunningEmulator) -> Callable[..., str]:
    """`mint_token()` or `mint_token(client_id, secret, scope="...")` -> access token."""

    def mint(
        client_id: str = "demo",
        secret: str = "demo-secret",  # noqa: S107 - the documented demo client
        scope: str | None = None,
    ) -> str:
        return fetch_token(coupa.base_url, client_id, secret, scope)

    return mint
