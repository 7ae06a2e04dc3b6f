"""What line streams and sub-resources share as singer-sdk child streams.

singer-sdk syncs a child stream once per parent context: for a line stream that is once per
parent page (tap_coupa.lines), for a sub-resource once per parent record
(tap_coupa.subresources). Each child sync would send the stream's SCHEMA again and end with a
STATE of its own. Here the SCHEMA goes out once per run, and the child's state goes out with
its parent's STATE, at the run's cadence (tap_coupa.checkpoints).

The two private singer-sdk surfaces this takes are here and only here (pinned in
tests/tap/test_sdk_pins.py): singer-sdk 0.54 has no public hook to send a child stream's SCHEMA
once, nor to end a child sync without a STATE.
"""

from __future__ import annotations

from typing_extensions import override

from tap_coupa.client import CoupaStream


class ChildStream(CoupaStream):
    """A singer-sdk child stream: one SCHEMA per run, its STATE written with its parent's."""

    #: Whether this stream's SCHEMA went out in this run.
    schema_written = False

    @override
    def _write_schema_message(self) -> None:
        """Once per run: the SDK repeats it at every child sync.

        Private: `Stream.sync` (final) calls this method before every sync and singer-sdk 0.54
        has no public "schema once" switch for child streams (the SCHEMA messages are built by
        the private `_generate_schema_messages` too); no SDK issue asks for one as of 0.54.9.
        Pinned in tests/tap/test_sdk_pins.py.
        """
        if not self.schema_written:
            super()._write_schema_message()
            self.schema_written = True

    def state_goes_with_parent(self) -> None:
        """End this child sync without its own STATE: the parent's next STATE carries it.

        The SDK writes a STATE at the end of every child sync unless the stream's state
        manager says the state is flushed. `state_manager` is public but its class lives in
        the private `singer_sdk.streams._state`; singer-sdk 0.54 has no public way to skip a
        child sync's STATE (a `should_emit_state` hook is requested in meltano/sdk#2879, open).
        Pinned in tests/tap/test_sdk_pins.py.
        """
        self.state_manager.is_flushed = True
