"""Shared fixtures: one in-process Coupa emulator per session, reset before each test."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
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

# -- the fast tier (`python3 tasks.py test --fast`, i.e. `-m "not (... or slow)"`) ----------------
#: Where a test that talks to the emulator or starts a plugin process costs seconds (a whole
#: read, a CLI start, a wait the test is about). Unit tests there, and tests/emulator and the
#: SDK's standard tap tests (tests/tap/test_core.py), stay in the fast tier.
INTEGRATION_AREAS = ("tests/tap/", "tests/wire/", "tests/target/", "tests/test_")
#: One read of every stream, then the SDK's ~1,300 cheap checks on it: the whole catalog.
ALWAYS_FAST = ("tests/tap/test_core.py::",)
#: Fixtures that mean "talks to the emulator or runs a plugin": such a test is `slow` unless
#: it is in INNER_LOOP.
COSTLY_FIXTURES = frozenset({"coupa", "emulator", "config", "tmp_path"})
#: The inner loop: one or two tests per area that still prove the core of it end to end
#: (auth, the page-size edges 0/1/49/50/51, 429, an XML body, resume, deletions, lines,
#: embedded arrays, extra streams, sub-resources, the target's create/update/faults...).
#: A test id without `[...]` keeps all of its parameters; one ending inside `[...]` keeps those
#: whose parameter id starts so.
INNER_LOOP: tuple[str, ...] = (
    "tests/tap/test_auth.py::test_missing_scope_names_stream_and_scope",
    "tests/tap/test_auth.py::test_bad_secret_is_a_sentence_not_a_traceback",
    "tests/tap/test_partitions.py::test_partition_bounds[0]",
    "tests/tap/test_partitions.py::test_partition_bounds[1]",
    "tests/tap/test_partitions.py::test_partition_bounds[49]",
    "tests/tap/test_partitions.py::test_partition_bounds[50]",
    "tests/tap/test_partitions.py::test_partition_bounds[51]",
    "tests/tap/test_errors.py::test_transient_faults_are_retried[429_retry_after]",
    "tests/tap/test_errors.py::test_transient_faults_are_retried[200_xml_body]",
    "tests/tap/test_incremental.py::test_second_run_reads_only_what_changed",
    "tests/tap/test_resume.py::test_state_goes_out_while_the_backfill_runs",
    "tests/tap/test_deletions.py::test_deleted_records_arrive_with_sdc_deleted_at",
    "tests/tap/test_lines_alone.py::test_child_stream_alone_equals_child_stream_with_parent[invoice_lines]",
    "tests/tap/test_embedded_arrays.py::test_nested_arrays_follow_the_document_filter",
    "tests/tap/test_extra_streams.py::test_custom_objects_are_discovered_and_read_exactly_once",
    "tests/tap/test_subresources.py::test_supplier_items_carry_their_item_id",
    "tests/tap/test_tenant.py::test_selected_stream_the_tenant_lacks_stops_before_any_record[failing_collections",
    "tests/tap/test_settings.py::test_several_problems_are_reported_together",
    "tests/tap/test_custom_columns.py::test_custom_fields_arrive_as_typed_columns",
    "tests/tap/test_secrets.py::test_catalog_and_state_carry_no_secret",
    "tests/wire/test_token_endpoint.py::test_refused_connection_at_start_fails_within_seconds",
    "tests/wire/test_exit_codes.py::test_unusable_config_file_is_one_sentence_and_exit_2[tap-coupa-missing]",
    "tests/wire/test_redaction.py::test_coupa_echoing_credentials_is_redacted[console]",
    "tests/target/test_target_upsert.py::test_absent_invoice_is_created_as_draft",
    "tests/target/test_target_upsert.py::test_editable_invoice_is_updated_in_place_without_duplicate_lines",
    "tests/target/test_target_faults.py::test_post_503_then_dropped_connection_creates_exactly_once",
    "tests/target/test_target_rejections.py::test_each_bad_record_is_rejected_with_coupa_messages_and_the_rest_written",
    "tests/target/test_target_state.py::test_state_flows_as_soon_as_the_records_before_it_are_done",
    "tests/test_connection_check.py::test_tap_check_names_the_stream_and_the_scope_to_grant",
)  # fmt: skip


#: Costly tests elsewhere (no emulator fixture, still seconds each on a loaded 2-core machine):
#: memory eviction at scale, a CLI started once per bad value, a large hypothesis search.
ALSO_SLOW: tuple[str, ...] = (
    "tests/emulator/test_emu_memory.py::test_writes_and_mutations_survive_eviction",
    "tests/emulator/test_emu_memory.py::test_evicted_records_come_back_byte_for_byte",
    "tests/emulator/test_emu_scale_cli.py::test_cli_bad_values_are_one_line_errors",
    "tests/target/test_target_payload_properties.py::test_only_writable_fields_are_sent_each_reference_by_one_key",
    "tests/target/test_target_payload_properties.py::test_lines_are_never_matched_twice",
)


def in_inner_loop(nodeid: str, inner_loop: Sequence[str] = INNER_LOOP) -> bool:
    """Whether `nodeid` is listed: its exact id, its function, or its parameters' prefix."""
    function = nodeid.split("[", 1)[0]
    return any(
        nodeid == entry or function == entry or ("[" in entry and nodeid.startswith(entry))
        for entry in inner_loop
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `slow` the integration tests outside the inner loop; refuse a stale INNER_LOOP id.

    A renamed test would silently leave the inner loop: when its file is collected and the id
    matches nothing, collection fails with the id to fix.
    """
    files = {item.nodeid.split("::", 1)[0] for item in items}
    ids = [item.nodeid for item in items]
    stale = [
        entry
        for entry in (*INNER_LOOP, *ALSO_SLOW)
        if entry.split("::", 1)[0] in files and not any(in_inner_loop(i, (entry,)) for i in ids)
    ]
    # Only a run of whole files can tell: `file::test`, -k and --deselect leave ids out.
    narrowed = any("::" in arg for arg in config.args) or config.getoption("keyword")
    if stale and not narrowed and not config.getoption("deselect"):
        raise pytest.UsageError(
            "tests/conftest.py INNER_LOOP or ALSO_SLOW names tests that do not exist (renamed?): "
            + ", ".join(stale)
        )
    for item in items:
        costly = COSTLY_FIXTURES & set(getattr(item, "fixturenames", ()))
        if in_inner_loop(item.nodeid, ALSO_SLOW) or (
            item.nodeid.startswith(INTEGRATION_AREAS)
            and not item.nodeid.startswith(ALWAYS_FAST)
            and costly
            and not in_inner_loop(item.nodeid)
        ):
            item.add_marker(pytest.mark.slow)


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
    """The session emulator, reset to its start data and knobs before this test.

    A request an earlier test left held (a `slow` fault outliving the target it was holding)
    would otherwise finish after the reset: logged as this test's request and, for a POST,
    writing into this test's data. So the reset waits for the emulator to finish serving it.
    """
    return reset_for_test(emulator)


def reset_for_test(running: RunningEmulator) -> RunningEmulator:
    """What `coupa` does: wait out held requests, then reset."""
    drain(running)
    running.control.reset()
    return running


def drain(running: RunningEmulator, timeout: float = 60.0) -> None:
    """Return once the emulator serves no /api/ request; the longest `slow` fault is 10 s."""
    deadline = time.monotonic() + timeout
    while held := [r for r in running.control.stats()["serving"] if " /api/" in r]:
        assert time.monotonic() < deadline, f"the emulator still serves {held} after {timeout} s"
        time.sleep(0.02)


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
