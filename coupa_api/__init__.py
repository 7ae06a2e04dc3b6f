"""The Coupa wire contract, shared by tap-coupa and target-coupa.

Everything that is true of talking to Coupa whichever side is talking lives here: OAuth client
credentials (auth), one retry and rate-limit policy (retry, ratelimit), how a response is read and
classified (responses), query encoding (query), the scope map (scopes), the connection settings
(settings) and a small client for code that is not a singer-sdk stream (client). This package
imports neither the tap nor the target.
"""
