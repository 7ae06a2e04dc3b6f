"""The aiohttp application, the middleware that plays production, and an in-thread runner.

The middleware applies, in order: latency, due mutations, fault rules, the rate limiter, a
gateway's quota (with its rate-limit headers), a tenant's own answers (coupa_emulator.tenant),
then the handler; it also dates responses by the instance clock when that is offset, and
keeps the request log and counters the control API reports. Control routes (/_emulator)
bypass all of it.
"""

from __future__ import annotations

import asyncio
import email.utils
import threading
import time
from types import TracebackType
from typing import Any

from aiohttp import web

from coupa_emulator import admin, api, tenant, timefmt
from coupa_emulator.api import CLIENT_KEY, EMULATOR_KEY
from coupa_emulator.config import EmulatorConfig
from coupa_emulator.control import EmulatorControl
from coupa_emulator.faults import fault_body, retry_after_header
from coupa_emulator.quota import quota_headers
from coupa_emulator.state import Emulator


def _body_size(response: web.StreamResponse) -> int:
    body = getattr(response, "body", None)
    return len(body) if isinstance(body, bytes | bytearray) else 0


def _truncated(response: web.StreamResponse) -> web.Response:
    body = getattr(response, "body", None) or b"[]"
    data = bytes(body) if isinstance(body, bytes | bytearray) else b"[]"
    return web.Response(
        status=200, body=data[: max(1, len(data) // 2)], content_type="application/json"
    )


def _drop(request: web.Request) -> None:
    """Close the socket without a byte of response (a load balancer resetting us)."""
    transport = request.transport
    if transport is not None:
        transport.abort()


def _client_key(emu: Emulator, request: web.Request) -> str:
    """Whose limits a request counts against: its OAuth client, else its address."""
    return emu.auth.client_of(request.headers.get("Authorization")) or f"ip:{request.remote}"


def _too_many(emu: Emulator, text: str = "Rate limit exceeded") -> web.Response:
    """A 429, with Retry-After only when the `retry_after` knob asks for one (Coupa sends none)."""
    response = web.Response(status=429, text=text, content_type="text/plain")
    if emu.config.retry_after is not None:
        response.headers["Retry-After"] = retry_after_header(emu.config.retry_after)
    return response


@web.middleware
async def production(  # noqa: PLR0912, PLR0915 - the production pipeline, step by step
    request: web.Request, handler: Any
) -> web.StreamResponse:
    """Everything between the socket and the handler that real Coupa traffic goes through."""
    if request.path.startswith("/_emulator"):
        response: web.StreamResponse = await handler(request)
        return response
    emu = request.app[EMULATOR_KEY]
    arrived = time.time()
    emu.in_flight += 1
    serving = f"{request.method} {request.path}"
    emu.serving[serving] += 1
    emu.max_in_flight = max(emu.max_in_flight, emu.in_flight)
    status, size = 0, 0
    is_api = request.path.startswith("/api/")
    try:
        if emu.config.latency_ms:
            await asyncio.sleep(emu.config.latency_ms / 1000.0)
        timefmt.CLOCK["offset"] = emu.config.clock_offset_seconds
        if is_api:
            emu.apply_due_mutations()
            emu.api_requests += 1
        rule = emu.faults.match(request.method, request.path, request.rel_url.raw_query_string)
        if rule is not None and rule.kind == "slow":
            await asyncio.sleep(rule.delay_s)
            rule = None
        if rule is not None and rule.kind == "drop":
            _drop(request)
            raise asyncio.CancelledError
        if rule is not None and rule.kind == "status":
            echo = ""
            if rule.body == "echo":
                form = await request.text()
                echo = (
                    f"Authorization: {request.headers.get('Authorization', '')}; "
                    f"query: {request.rel_url.raw_query_string}; form: {form}"
                )
            body, content_type = fault_body(rule, echo)
            response = web.Response(status=rule.status, body=body, content_type=content_type)
            if rule.location is not None:
                response.headers["Location"] = rule.location
            if rule.retry_after is not None:
                response.headers["Retry-After"] = retry_after_header(rule.retry_after)
            if rule.status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        elif is_api and not emu.limiter.allow(
            _client_key(emu, request), emu.config.rate_limit, emu.config.burst
        ):
            response = _too_many(emu)
        else:
            quota = (
                emu.quotas.take(
                    _client_key(emu, request), emu.config.quota, emu.config.quota_window
                )
                if is_api and emu.config.quota is not None
                else None
            )
            if quota is not None and not quota.allowed:
                response = _too_many(emu, "Quota exceeded")
            else:
                try:
                    differs = tenant.answer(emu, request) if is_api else None
                    response = differs if differs is not None else await handler(request)
                except web.HTTPException as exc:
                    response = exc
                if rule is not None and rule.kind == "truncate":
                    response = _truncated(response)
            if quota is not None:
                response.headers.update(quota_headers(emu.config.rate_limit_headers, quota))
        status, size = response.status, _body_size(response)
        if emu.config.clock_offset_seconds:
            response.headers["Date"] = email.utils.formatdate(timefmt.now_ts(), usegmt=True)
        return response
    finally:
        emu.in_flight -= 1
        emu.serving[serving] -= 1
        if not emu.serving[serving]:
            del emu.serving[serving]  # one key per path ever served would only grow
        emu.record_request({
            "method": request.method,
            "path": request.path,
            "query": request.rel_url.raw_query_string,
            "status": status,
            "client_id": request.get(CLIENT_KEY)
            or emu.auth.client_of(request.headers.get("Authorization")),
            "accept": request.headers.get("Accept"),
            "bytes": size,
            "time": time.time(),
            "arrived": arrived,
        })  # fmt: skip


def make_app(config: EmulatorConfig) -> web.Application:
    """An aiohttp application serving one emulator instance."""
    app = web.Application(middlewares=[production], client_max_size=32 * 1024**2)
    app[EMULATOR_KEY] = Emulator(config)
    app.add_routes(admin.routes())
    app.add_routes(api.routes())
    return app


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Bind and start serving; returns the runner and the port actually bound."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=512, reuse_address=True)
    await site.start()
    bound = runner.addresses[0][1]
    return runner, int(bound)


class RunningEmulator:
    """An emulator serving from a background thread with its own event loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        thread: threading.Thread,
        runner: web.AppRunner,
        host: str,
        port: int,
    ) -> None:
        self._loop = loop
        self._thread = thread
        self._runner = runner
        self.host = host
        self.port = port
        self.base_url = f"http://{host}:{port}"
        self.control = EmulatorControl(self.base_url)

    @property
    def emulator(self) -> Emulator:
        """The live state object (for white-box tests; prefer `control`)."""
        return self._runner.app[EMULATOR_KEY]

    def stop(self) -> None:
        """Stop serving and join the thread (idempotent)."""
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        future.result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self.control.close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(config: EmulatorConfig | None = None) -> RunningEmulator:
    """Start an emulator in a daemon thread and return once it accepts connections."""
    config = config or EmulatorConfig()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def serve() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            runner, port = loop.run_until_complete(
                start_site(make_app(config), config.host, config.port)
            )
        except BaseException as exc:  # handed to the starting thread
            holder["error"] = exc
            ready.set()
            loop.close()
            return
        holder.update(loop=loop, runner=runner, port=port)
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    thread = threading.Thread(target=serve, name="coupa-emulator", daemon=True)
    thread.start()
    if not ready.wait(timeout=120):
        raise RuntimeError("the Coupa emulator did not start within 120 s")
    if "error" in holder:
        raise holder["error"]
    return RunningEmulator(holder["loop"], thread, holder["runner"], config.host, holder["port"])
