"""Generated data is a pinned function of the seed: a refactor of the generator changes no byte.

Tests, the demo's row counts and the docs' outputs compare exact numbers, so every record of
every collection (key order included), the samples the query schema is built from, and the
ids and timestamps of each table are hashed here for a fixed seed and both tenant profiles.
If a change to the data is intended, say so in the CHANGELOG and update the digests.
"""

from __future__ import annotations

import hashlib

import orjson
import pytest

from coupa_emulator import records_main, records_more
from coupa_emulator.builders import BUILDERS
from coupa_emulator.resources import RESOURCES
from coupa_emulator.store import Store

SEED = 42
SCALE = 120
DIGESTS = {
    "acme": "bc87456a34b54954f2de889cb23557a4c429eede04e30704f2326b468f89979d",
    "globex": "a12991b04fd65f56ab3db9e92c7d8f119bb6faa7ee7bc112e3dba75bfbfccb3d",
}


def store_digest(profile: str) -> str:
    """sha256 over each table's index, its records as served, and its schema samples."""
    store = Store(SEED, SCALE, None, profile)
    digest = hashlib.sha256()
    for name in sorted(RESOURCES):
        table = store.table(name)
        digest.update(name.encode())
        digest.update(
            orjson.dumps([(rid, table.created[rid], table.updated[rid]) for rid in table.ids])
        )
        for rid in table.ids:
            digest.update(table.get_bytes(rid))
        digest.update(orjson.dumps(store.samples(name)))
    return digest.hexdigest()


@pytest.mark.parametrize("profile", sorted(DIGESTS))
def test_generated_store_is_pinned_for_a_fixed_seed(profile: str) -> None:
    assert store_digest(profile) == DIGESTS[profile], (
        f"the data generated for seed {SEED}, scale {SCALE}, profile {profile} changed; "
        "if that is intended, note it in the CHANGELOG and update DIGESTS"
    )


def test_every_collection_has_exactly_one_builder() -> None:
    assert set(BUILDERS) == set(RESOURCES)
    both = set(records_main.BUILDERS) & set(records_more.BUILDERS)
    assert not both, f"built in both records_main and records_more: {sorted(both)}"
