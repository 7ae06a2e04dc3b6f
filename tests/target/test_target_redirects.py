"""A POST or PUT never follows a redirect: the record is rejected, nothing is sent elsewhere.

The emulator answers the writes with a 301/302/307/308 whose Location is a second HTTP server
on another loopback address. That server records every request it receives: it must receive
none (requests would re-post a 307/308 with the same body, and turn a 301/302 into a GET).
"""

from __future__ import annotations

import copy
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.target.conftest import (
    dead_letters,
    invoices,
    invoices_numbered,
    new_invoice,
    run_cli,
    singer_input,
    write_invoices,
    writes,
)


@dataclass
class Recorder:
    """A server that answers every request 201 with a JSON invoice, and remembers it."""

    server: http.server.ThreadingHTTPServer
    received: list[tuple[str, str]] = field(default_factory=list)

    @property
    def netloc(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Another host (127.0.0.2, any port), which a followed redirect would reach."""
    seen: list[tuple[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            seen.append((self.command, self.path))
            body = b'{"id": 999999, "status": "draft"}'
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Recorder(server, seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirected_write_is_rejected_and_never_resent(coupa, config, recorder, status):
    control = coupa.control
    existing = new_invoice(control, f"T-REDIR-EDIT-{status}")
    assert write_invoices(config, [existing]).counts == {"created": 1}
    edited = copy.deepcopy(existing)
    edited["comments"] = "changed, so the target sends a PUT"
    fresh = [new_invoice(control, f"T-REDIR-NEW-{status}-{n}") for n in range(2)]
    before = len(invoices(control))
    writes_before = len(writes(control))
    control.redirect_writes(f"http://{recorder.netloc}/api/invoices", status=status)

    run = write_invoices(config, [*fresh, edited])

    assert recorder.received == []  # nothing was re-posted (nor turned into a GET) elsewhere
    assert run.counts == {"rejected": 3}
    assert run.error is not None
    assert "3 of 3 records were rejected" in str(run.error)
    assert len(invoices(control)) == before
    for record in fresh:
        assert invoices_numbered(control, record["invoice-number"]) == []
    [kept] = invoices_numbered(control, existing["invoice-number"])
    assert kept["comments"] == existing["comments"]
    sent = writes(control)[writes_before:]
    assert sorted(w["method"] for w in sent if w["status"] == status) == ["POST", "POST", "PUT"]
    # nothing written; a 401 while the token settles may come first (that write goes again)
    assert not [w for w in sent if 200 <= w["status"] < 300]
    letters = dead_letters(config)
    assert len(letters) == 3
    for letter in letters:
        assert letter["status"] == status
        assert letter["stage"] in {"create", "update"}
        assert recorder.netloc in letter["errors"][0]
        assert "never re-sent" in letter["errors"][0]
    assert {letter["line"] for letter in letters} == {2, 3, 4}


def test_cli_exits_3_naming_the_redirect_host(coupa, config, recorder, tmp_path):
    control = coupa.control
    record = new_invoice(control, "T-REDIR-CLI")
    control.redirect_writes(f"http://{recorder.netloc}/elsewhere", status=307)

    result = run_cli(config, tmp_path, singer_input([record]))

    assert result.returncode == 3, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert f"a redirect to host {recorder.netloc}" in result.stderr
    assert "1 rejected" in result.stderr
    assert recorder.received == []
    assert invoices_numbered(control, "T-REDIR-CLI") == []


def test_reads_still_follow_redirects(coupa, config, recorder):
    """A GET (the look-up) may follow a redirect; only writes are refused."""
    from coupa_api.client import CoupaClient  # noqa: PLC0415

    control = coupa.control
    control.add_faults(
        [{"kind": "status", "status": 302, "path": "/api/suppliers", "method": "GET",
          "location": f"http://{recorder.netloc}/api/suppliers", "body": "empty"}]
    )  # fmt: skip
    client = CoupaClient(config, scopes=["core.supplier.read"])
    answer = client.request("GET", "/api/suppliers", params={"limit": 1})
    assert answer == {"id": 999999, "status": "draft"}
    assert [method for method, _ in recorder.received] == ["GET"]
