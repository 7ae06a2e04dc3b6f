"""Exit codes that orchestrators can trust, shared by tap-coupa and target-coupa.

0 means one thing only: the run completed and every record was handled. Every other outcome has
its own documented code (docs/reliability.md), and the final log line names it.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of tap-coupa and target-coupa."""

    #: The run completed: every record was read (tap) or written/unchanged (target).
    OK = 0
    #: Coupa or the network failed in a way retries could not heal; nothing more was done.
    FAILED = 1
    #: A setting, the config file, the catalog or the state file is unusable; fix it and rerun.
    CONFIG = 2
    #: The target completed, but Coupa rejected some records (dead-lettered with its reasons) and
    #: `allow_failures` is off. Conflicts (an invoice Coupa no longer lets anyone edit, with
    #: different data) are dead-lettered too but do not change the exit code: they are Coupa's
    #: workflow working as designed, and would otherwise fail every later run (docs/target.md).
    REJECTED = 3
    #: Stopped by SIGTERM or SIGINT before the run completed; the last STATE emitted is safe to
    #: resume from.
    INTERRUPTED = 4


def describe(code: ExitCode) -> str:
    """The final log line's words for an exit code."""
    return {
        ExitCode.OK: "completed",
        ExitCode.FAILED: "failed",
        ExitCode.CONFIG: "configuration error",
        ExitCode.REJECTED: "completed with rejected records",
        ExitCode.INTERRUPTED: "interrupted",
    }[code]
