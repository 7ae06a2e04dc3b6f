"""Helpers that keep stream declarations one line per fact."""

from __future__ import annotations

import copy
from typing import Any

from tap_coupa.schemas._fragments import INTEGER


def with_parent_id(line_schema: dict[str, Any], parent_id_key: str) -> dict[str, Any]:
    """A line schema plus the parent's id, which the tap adds to every line for joins."""
    schema = copy.deepcopy(line_schema)
    schema["properties"][parent_id_key] = INTEGER
    return schema
