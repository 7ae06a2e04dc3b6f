"""`python -m coupa_emulator` runs the CLI."""

import sys

from coupa_emulator.cli import main

sys.exit(main())
