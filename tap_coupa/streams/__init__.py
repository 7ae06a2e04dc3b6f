"""Every stream the tap offers: the classes the factory builds from the stream table.

`STREAMS` is in table order (parents before their children); each class is also an attribute
of this package under its class name (`tap_coupa.streams.InvoicesStream`).
"""

from __future__ import annotations

from typing import Any

from tap_coupa.client import CoupaStream
from tap_coupa.streams.factory import build_streams
from tap_coupa.streams.specs import SPECS

STREAMS: tuple[type[CoupaStream], ...] = build_streams(SPECS, __name__)
_BY_CLASS_NAME = {cls.__name__: cls for cls in STREAMS}


def __getattr__(name: str) -> Any:
    """`InvoicesStream` and the other built classes, by class name."""
    try:
        return _BY_CLASS_NAME[name]
    except KeyError:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg) from None
