"""A faithful local emulator of Coupa's Core REST API, for testing tap-coupa and target-coupa.

Start it with `coupa-emulator --port 0` or, in tests, `coupa_emulator.server.start_in_thread`.
"""
