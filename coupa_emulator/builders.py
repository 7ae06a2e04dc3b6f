"""How a record of each collection is built: the one registry, and the frame every record shares.

`BUILDERS` maps a collection (coupa_emulator.resources) to the function that fills its
records; adding a collection is one ResourceSpec and one entry here (a function in
coupa_emulator.records_main or records_more). `build_record` is the only caller: it gives
the builder a record holding its id and audit stamps and the record's own random generator,
then adds the tenant profile's custom fields from the same generator. Draws happen in that
order, so moving code between these steps changes generated data (tests/emulator's digest
test says so).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from coupa_emulator import records_main, records_more
from coupa_emulator.generator import Generator, Record
from coupa_emulator.resources import ResourceSpec

#: (generator, record with id and stamps, the record's random generator, created, updated).
Builder = Callable[[Generator, Record, random.Random, int, int], None]

BUILDERS: Mapping[str, Builder] = {**records_main.BUILDERS, **records_more.BUILDERS}

#: Collections whose generated records carry no custom fields.
WITHOUT_CUSTOM_FIELDS = frozenset({"currencies"})


def build_record(
    gen: Generator, spec: ResourceSpec, rid: int, created: int, updated: int
) -> Record:
    """The full default (deep) representation of one record."""
    rng = gen.rng(spec.name, rid)
    rec: Record = {"id": rid}
    if spec.timestamps:
        gen.add_stamps(rec, created, updated, rng)
    BUILDERS[spec.name](gen, rec, rng, created, updated)
    if spec.name not in WITHOUT_CUSTOM_FIELDS:
        gen.add_custom_fields(spec.name, rec, rng)
    return rec
