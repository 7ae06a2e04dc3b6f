"""An authenticated HTTP helper for the emulator contract tests (real HTTP, nothing mocked)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from coupa_emulator.resources import RESOURCES
from coupa_emulator.server import RunningEmulator


class Api:
    """`requests` bound to the emulator with a demo token and JSON Accept by default."""

    def __init__(self, running: RunningEmulator) -> None:
        self.base = running.base_url
        self.running = running
        self.session = requests.Session()
        self.token = self.mint()

    def mint(self) -> str:
        """A demo token; called again after a test's reset() forgets the old one."""
        response = self.session.post(
            f"{self.base}/oauth2/token",
            data={"client_id": "demo", "client_secret": "demo-secret",
                  "grant_type": "client_credentials"},
            timeout=30,
        )  # fmt: skip
        token: str = response.json()["access_token"]
        return token

    def headers(self, accept: str | None = "application/json") -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if accept:
            headers["Accept"] = accept
        return headers

    def get(self, path: str, params: Any = None, accept: str | None = "application/json",
            **kw: Any) -> requests.Response:  # fmt: skip
        for _ in range(2):
            response = self.session.get(
                f"{self.base}{path}", params=params, headers=self.headers(accept), timeout=60, **kw
            )
            if response.status_code != 401:
                break
            self.token = self.mint()
        return response

    def rows(self, path: str, params: Any = None) -> list[dict[str, Any]]:
        response = self.get(path, params)
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()
        return data

    def all_rows(self, resource: str, params: Any = None) -> list[dict[str, Any]]:
        """Every matching record via keyset pages on id (the test's own terms kept)."""
        out: list[dict[str, Any]] = []
        base = list(params.items()) if isinstance(params, dict) else list(params or [])
        last = 0
        while True:
            page = self.rows(
                f"/api/{resource}",
                [*base, ("order_by", "id"), ("id[gt]", last), ("limit", 50)],
            )
            out.extend(page)
            if len(page) < 50:
                return out
            last = page[-1]["id"]

    def send(self, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        for _ in range(2):
            response = self.session.request(
                method,
                f"{self.base}{path}",
                params=params or None,
                data=None if body is None else json.dumps(body),
                headers={**self.headers(), "Content-Type": "application/json"},
                timeout=60,
            )
            if response.status_code != 401:
                break
            self.token = self.mint()
        return response


@pytest.fixture
def api(coupa: RunningEmulator) -> Api:
    return Api(coupa)


def collection_path(coupa: RunningEmulator, name: str) -> str:
    """A resource's list path; a sub-resource's under the parent of its first record."""
    spec = RESOURCES[name]
    if spec.parent_key is None:
        return spec.collection()
    return spec.collection(coupa.control.records(name)[0][spec.parent_key])
