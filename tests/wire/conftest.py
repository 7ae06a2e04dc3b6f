"""Helpers for the wire-contract and command-line tests: loopback servers and CLI runs.

The emulator fixtures (`emulator`, `coupa`) come from tests/conftest.py. The servers here play
what the emulator cannot: a "remote" host that records whatever reaches it (another loopback
address), and an https endpoint whose certificate does not verify. Every server and wait is
bounded in time.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent


@dataclass
class Recorder:
    """A loopback HTTP server that records every request and answers 200 `{}`."""

    server: ThreadingHTTPServer
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def netloc(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"


def _recording_handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            recorder.requests.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers),
                 "body": body}
            )  # fmt: skip
            payload = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _record  # noqa: N815 - http.server's naming

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def _serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    return thread


@pytest.fixture
def remote() -> Iterator[Recorder]:
    """A "remote" host: 127.0.0.2 (another loopback address), recording what reaches it."""
    server = ThreadingHTTPServer(("127.0.0.2", 0), BaseHTTPRequestHandler)
    recorder = Recorder(server)
    server.RequestHandlerClass = _recording_handler(recorder)
    _serve(server)
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def untrusted_https(tmp_path: Path) -> Iterator[str]:
    """`https://127.0.0.1:<port>` with a self-signed certificate (verification must fail)."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(  # noqa: S603 - a fixed openssl command
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),  # noqa: S607
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    recorder = Recorder(server)
    server.RequestHandlerClass = _recording_handler(recorder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _serve(server)
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def run_plugin(
    executable: str,
    args: Sequence[str],
    config: Mapping[str, Any],
    tmp_path: Path,
    *,
    stdin_text: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `tap-coupa` or `target-coupa` with `config` written to a file, as a user would."""
    config_path = tmp_path / f"{executable}-config.json"
    config_path.write_text(json.dumps(config))
    return subprocess.run(  # noqa: S603 - our own console scripts
        [str(BIN / executable), "--config", str(config_path), *args],
        input=stdin_text if stdin_text is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )
