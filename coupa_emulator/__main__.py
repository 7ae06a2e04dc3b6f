"""`python -m coupa_emulator` runs the CLI, with the console script's check for the extra."""

import sys

from coupa_emulator._entry import main

sys.exit(main())
