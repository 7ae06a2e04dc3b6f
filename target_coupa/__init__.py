"""target-coupa: writes tap-coupa's `invoices` stream back into a Coupa instance.

target (settings, STATE timing, summary, exit code) -> sinks (one outcome per record) -> writer
(lookup, create, update, submit; no blind retries) -> payloads (pure: record -> write body,
line matching, comparison) and references (natural keys first; dry-run resolution); outcomes
holds the ledger and the dead-letter file; settings the target's own settings and checks.
Talking to Coupa (auth, rate limit, retries, error messages) is coupa_api's, shared with
tap-coupa.
"""
