"""`python -m tap_coupa`."""

from tap_coupa.tap import main

main()
