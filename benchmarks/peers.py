"""Reference clients that `throughput.py` runs side by side with tap-coupa (benchmarks, not tests).

Each reader fetches every invoice from a Coupa (the emulator) and writes one Singer-style
RECORD line per invoice to stdout, exactly like the tap, so the harness checks every client's
record set the same way. The writer copies invoices one at a time. Usage:

    .venv/bin/python benchmarks/peers.py keyset --base-url URL        # sequential, id[gt]
    .venv/bin/python benchmarks/peers.py async-client --base-url URL [--concurrency 10]
    .venv/bin/python benchmarks/peers.py ideal --base-url URL [--partitions 8 --rate 25 --burst 20]
    .venv/bin/python benchmarks/peers.py naive-writer --base-url URL < singer-input.jsonl

OAuth client: the emulator's demo / demo-secret. Loopback only; every request has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator
from typing import Any

import orjson
import requests

CLIENT_ID, CLIENT_SECRET = "demo", "demo-secret"
PAGE = 50
TIMEOUT = 120.0


def _record_line(record: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": "RECORD", "stream": "invoices", "record": record}) + b"\n"


def _token(base: str, scope: str) -> str:
    response = requests.post(
        f"{base}/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
              "client_secret": CLIENT_SECRET, "scope": scope},
        timeout=TIMEOUT,
    )  # fmt: skip
    response.raise_for_status()
    return str(response.json()["access_token"])


def _session(base: str, scope: str) -> requests.Session:
    session = requests.Session()
    session.headers.update(
        {"Authorization": f"Bearer {_token(base, scope)}", "Accept": "application/json"}
    )
    return session


def _get(session: requests.Session, url: str, params: Any) -> requests.Response:
    """GET with a plain retry on 429 (Coupa sends no Retry-After): wait, then try again."""
    delay = 0.5
    for _ in range(20):
        response = session.get(url, params=params, timeout=TIMEOUT)
        if response.status_code != 429:
            response.raise_for_status()
            return response
        time.sleep(delay)
        delay = min(8.0, delay * 2)
    raise RuntimeError(f"still 429 after 20 attempts: {url}")


# ---- readers ---------------------------------------------------------------------------------
def keyset(base: str) -> None:
    """One request at a time: order_by=id, id[gt]=last id, until a short page."""
    session = _session(base, "core.invoice.read")
    out = sys.stdout.buffer
    last = 0
    while True:
        params = {"order_by": "id", "id[gt]": last, "limit": PAGE}
        page = orjson.loads(_get(session, f"{base}/api/invoices", params).content)
        for record in page:
            out.write(_record_line(record))
        if len(page) < PAGE:
            break
        last = page[-1]["id"]
    out.flush()


async def _async_client(base: str, concurrency: int | None) -> None:
    from coupa_async_client import CoupaAsyncClient  # noqa: PLC0415 - the `bench` extra

    out = sys.stdout.buffer
    client = CoupaAsyncClient(
        base_url=f"{base}/api",
        token_url=f"{base}/oauth2/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=["core.invoice.read"],
    )
    async with client:
        # Offsets need a stable order: order_by=id (without it Coupa's order is undefined).
        options: dict[str, Any] = {} if concurrency is None else {"concurrent": concurrency}
        async for page in client.iter_pages("invoices", params={"order_by": "id"}, **options):
            for record in page:
                out.write(_record_line(record))
    out.flush()


class TokenBucket:
    """`rate` requests per second with a burst of `burst`, shared by every worker."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


async def _ideal(base: str, partitions: int, rate: float, burst: int) -> None:
    """Keyset cursors over `partitions` id ranges, one token bucket, records as they arrive."""
    import aiohttp  # noqa: PLC0415 - the emulator's own dependency

    token = _token(base, "core.invoice.read")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    bucket = TokenBucket(rate, burst)
    out = sys.stdout.buffer
    url = f"{base}/api/invoices"
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    connector = aiohttp.TCPConnector(limit=partitions + 2)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout, connector=connector) as http:

        async def page(params: dict[str, Any]) -> list[dict[str, Any]]:
            delay = 0.25
            for _ in range(30):
                await bucket.take()
                async with http.get(url, params=params) as response:
                    body = await response.read()
                    if response.status == 429:
                        await asyncio.sleep(delay)
                        delay = min(4.0, delay * 2)
                        continue
                    response.raise_for_status()
                rows: list[dict[str, Any]] = orjson.loads(body)
                return rows
            raise RuntimeError("still 429 after 30 attempts")

        ends = await asyncio.gather(
            page({"order_by": "id", "limit": 1, "fields": '["id"]'}),
            page({"order_by": "id", "dir": "desc", "limit": 1, "fields": '["id"]'}),
        )
        if not ends[0]:
            return
        low, high = ends[0][0]["id"], ends[1][0]["id"]
        step = (high - low) // partitions + 1

        async def worker(after: int, upper: int) -> None:
            while True:
                rows = await page(
                    {"order_by": "id", "id[gt]": after, "id[lt_or_eq]": upper, "limit": PAGE}
                )
                for record in rows:
                    out.write(_record_line(record))
                if len(rows) < PAGE:
                    return
                after = rows[-1]["id"]

        bounds = [low - 1 + k * step for k in range(partitions)] + [high]
        await asyncio.gather(*(worker(bounds[k], bounds[k + 1]) for k in range(partitions)))
    out.flush()


# ---- writer ----------------------------------------------------------------------------------
def _ref(value: Any, key: str) -> dict[str, Any] | None:
    return {key: value[key]} if isinstance(value, dict) and value.get(key) is not None else None


def create_body(record: dict[str, Any]) -> dict[str, Any]:
    """A Coupa create body for a tap-shaped invoice, references by natural key."""
    lines = []
    for line in record.get("invoice-lines") or []:
        body = {k: line.get(k) for k in ("type", "line-num", "description", "price", "quantity")}
        for key, natural in (("account", "code"), ("uom", "code")):
            ref = _ref(line.get(key), natural)
            if ref:
                body[key] = ref
        lines.append(body)
    header: dict[str, Any] = {
        "invoice-number": record["invoice-number"],
        "invoice-date": record["invoice-date"],
        "supplier": _ref(record.get("supplier"), "number"),
        "currency": _ref(record.get("currency"), "code"),
        "invoice-lines": lines,
    }
    term = _ref(record.get("payment-term"), "code")
    if term:
        header["payment-term"] = term
    return header


def _records(stream: Any) -> Iterator[dict[str, Any]]:
    for raw in stream:
        message = orjson.loads(raw)
        if message.get("type") == "RECORD" and message.get("stream") == "invoices":
            yield message["record"]


def naive_writer(base: str) -> None:
    """One invoice at a time: look it up by supplier + number, then create it if absent."""
    session = _session(base, "core.invoice.read core.invoice.write core.invoice.create")
    url = f"{base}/api/invoices"
    written = 0
    for record in _records(sys.stdin.buffer):
        supplier = (record.get("supplier") or {}).get("number")
        found = _get(
            session,
            url,
            {"invoice-number": record["invoice-number"], "supplier[number]": supplier,
             "fields": '["id"]'},
        ).json()  # fmt: skip
        if found:
            continue
        for _ in range(20):
            response = session.post(
                url, data=orjson.dumps(create_body(record)), timeout=TIMEOUT,
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
            if response.status_code != 429:
                break
            time.sleep(0.5)
        if response.status_code != 201:
            raise RuntimeError(f"create refused: {response.status_code} {response.text[:300]}")
        written += 1
    print(f"created {written}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("peer", choices=("keyset", "async-client", "ideal", "naive-writer"))
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--concurrency", type=int, default=None, help="async-client only")
    parser.add_argument("--partitions", type=int, default=8, help="ideal only")
    parser.add_argument("--rate", type=float, default=25.0, help="ideal only: requests/s")
    parser.add_argument("--burst", type=int, default=20, help="ideal only")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    if args.peer == "keyset":
        keyset(base)
    elif args.peer == "async-client":
        asyncio.run(_async_client(base, args.concurrency))
    elif args.peer == "ideal":
        asyncio.run(_ideal(base, args.partitions, args.rate, args.burst))
    else:
        naive_writer(base)


if __name__ == "__main__":
    main()
