"""`EmulatorControl`: the Python wrapper of the control API, one method per route."""

from __future__ import annotations

from typing import Any

import requests


class ControlError(RuntimeError):
    """The control API refused a request (bad knob, unknown resource...)."""


class EmulatorControl:
    """Drives a running emulator over HTTP (works for in-process and CLI instances alike)."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def close(self) -> None:
        """Release the HTTP session."""
        self._session.close()

    def _call(self, method: str, route: str, body: Any = None) -> Any:
        response = self._session.request(
            method, f"{self.base_url}/_emulator/{route}", json=body, timeout=self.timeout
        )
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise ControlError(f"{method} /_emulator/{route}: {response.status_code} {message}")
        return response.json()

    def reset(self, **knobs: Any) -> dict[str, Any]:
        """Regenerate data (seed, scale, counts, tenant_profile, ...); clear everything else."""
        result: dict[str, Any] = self._call("POST", "reset", knobs)
        return result

    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Change behaviour knobs (latency_ms, rate_limit, burst, retry_after, ...)."""
        result: dict[str, Any] = self._call("POST", "config", knobs)
        return result

    def add_client(self, client_id: str, client_secret: str, scopes: list[str]) -> dict[str, Any]:
        """Add or replace an OAuth client granted `scopes`."""
        result: dict[str, Any] = self._call(
            "POST",
            "clients",
            {"client_id": client_id, "client_secret": client_secret, "scopes": list(scopes)},
        )
        return result

    def add_faults(self, rules: list[dict[str, Any]]) -> dict[str, Any]:
        """Append fault rules (see docs/emulator-control.md)."""
        result: dict[str, Any] = self._call("POST", "faults", list(rules))
        return result

    def redirect_writes(
        self,
        location: str,
        *,
        status: int = 307,
        path: str = "/api/invoices",
        methods: tuple[str, ...] = ("POST", "PUT"),
        times: int = 1_000_000,
    ) -> dict[str, Any]:
        """Answer writes under `path` with a `status` redirect to `location`, processing nothing.

        A gateway or a moved instance: 301/302/303 (a client following it turns the POST into
        a GET), 307/308 (a client following it re-sends the method and body to `location`).
        """
        if not 300 <= status < 400:
            raise ControlError(f"a redirect status is 3xx, got {status}")
        rules = [
            {"kind": "status", "status": status, "path": path, "method": m, "times": times,
             "body": "empty", "location": location}
            for m in methods
        ]  # fmt: skip
        return self.add_faults(rules)

    def clear_faults(self) -> dict[str, Any]:
        """Drop every fault rule (rules that never fired included); data and knobs stay."""
        result: dict[str, Any] = self._call("DELETE", "faults")
        return result

    def issued_tokens(self) -> list[str]:
        """Every access token the emulator issued since the last reset (to look for leaks)."""
        result: list[str] = self._call("GET", "tokens")
        return result

    def add_mutation(
        self,
        after_requests: int,
        resource: str,
        update: int = 0,
        insert: int = 0,
        ids_above: int = 0,
    ) -> dict[str, Any]:
        """After `after_requests` more /api/ requests, bump `update` records and insert `insert`.

        New ids are above the table's highest and above `ids_above`.
        """
        result: dict[str, Any] = self._call(
            "POST",
            "mutations",
            {"after_requests": after_requests, "resource": resource, "update": update,
             "insert": insert, "ids_above": ids_above},
        )  # fmt: skip
        return result

    def expire_tokens(self) -> dict[str, Any]:
        """Expire every token issued so far."""
        result: dict[str, Any] = self._call("POST", "tokens/expire")
        return result

    def records(self, resource: str) -> list[dict[str, Any]]:
        """Every stored record of `resource`, in full, id ascending."""
        result: list[dict[str, Any]] = self._call("GET", f"records/{resource}")
        return result

    def record_ids(self, resource: str) -> list[int]:
        """The ids of every stored record of `resource`, ascending (no records built)."""
        result: list[int] = self._call("GET", f"records/{resource}?fields=id")
        return result

    def delete_record(self, resource: str, rid: int) -> dict[str, Any]:
        """Delete one record, as Coupa's DELETE (or a user in Coupa's UI) would."""
        result: dict[str, Any] = self._call("DELETE", f"records/{resource}/{rid}")
        return result

    def replace_record(self, resource: str, record: dict[str, Any]) -> dict[str, Any]:
        """Save `record` (whole, by its id) with `updated-at` now; returns the stored record."""
        result: dict[str, Any] = self._call("PUT", f"records/{resource}/{record['id']}", record)
        return result

    def stats(self) -> dict[str, Any]:
        """Request, status, token-mint and in-flight counters."""
        result: dict[str, Any] = self._call("GET", "stats")
        return result

    def requests_log(self) -> list[dict[str, Any]]:
        """The request log: method, path, query, status, client_id, accept, bytes."""
        result: list[dict[str, Any]] = self._call("GET", "requests")
        return result
