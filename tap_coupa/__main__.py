"""The `tap-coupa` console script and `python -m tap_coupa`.

The tap's imports (singer-sdk and its dependencies, the stream classes) allocate about 90,000
objects, most of which live until exit; the cyclic collector ran about 140 collections over
them during start-up for little (about 60 ms of the ~0.5 s start-up, measured with
`python -c "import tap_coupa.tap"` with and without the collector). So it is off while they are
imported, and `tap.main` freezes what they built. The reference cycles the imports leave
behind (about 0.7 MB of RSS) are frozen with the rest instead of collected: collecting them
would cost what this saves.
"""

from __future__ import annotations

import gc


def main() -> object:
    """Import the tap with the cyclic collector off, then run it."""
    gc.disable()
    try:
        from tap_coupa import tap  # noqa: PLC0415 - imported here, with the collector off
    finally:
        gc.enable()
    return tap.main()


if __name__ == "__main__":
    main()
