"""The `coupa-emulator` console script: a clear message when the `[emulator]` extra is missing.

`pip install tap-coupa` ships the emulator's code but not its server stack (aiohttp, tzdata),
which production installs of the tap and target do not need; without this check the script
would end in an ImportError traceback.
"""

from __future__ import annotations

import importlib.util
import sys

#: The shared exit code for "fix the installation or settings and rerun" (coupa_api/exitcodes.py).
EXIT_CONFIG = 2


def main() -> int:
    """Run the emulator's CLI, or explain how to install what it needs."""
    missing = [name for name in ("aiohttp", "tzdata") if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"coupa-emulator: error: the emulator's server stack is not installed (missing: "
            f"{', '.join(missing)}). It is an extra of the tap-coupa package: run "
            "`pip install 'tap-coupa[emulator]'` (python3 tasks.py setup installs it for "
            "development).",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    from coupa_emulator.cli import main as cli_main  # noqa: PLC0415 - only once the stack is there

    return cli_main()
