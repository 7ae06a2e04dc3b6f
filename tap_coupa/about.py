"""Package facts for `--about`, read from the header of the installed METADATA only.

singer-sdk's `get_plugin_version`, `get_sdk_version` and `get_supported_python_versions` parse
whole METADATA files with the email parser, three times; singer-sdk's carries its README, and
that parse was a fifth of `tap-coupa --about`. The version and the Python versions are in the
header, before the first blank line: this reads that, once per package.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata

#: The distribution whose version `--about` reports as the SDK's.
SDK_PACKAGE = "singer_sdk"


class Headers:
    """The header fields of a METADATA file (what singer_sdk.about.python_versions reads)."""

    def __init__(self, text: str) -> None:
        self.fields: list[tuple[str, str]] = []
        for line in text.splitlines():
            if not line.strip():
                break
            if line[0] in " \t" and self.fields:  # a folded continuation line
                key, value = self.fields[-1]
                self.fields[-1] = (key, f"{value}\n{line.strip()}")
            elif ":" in line:
                key, _, value = line.partition(":")
                self.fields.append((key.strip(), value.strip()))

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value of `key` (case-insensitive, as email headers are)."""
        return next((v for k, v in self.fields if k.lower() == key.lower()), default)

    def get_all(self, key: str, default: list[str] | None = None) -> list[str] | None:
        """Every value of `key`, or `default` when there is none."""
        found = [v for k, v in self.fields if k.lower() == key.lower()]
        return found or default


@cache
def headers(package: str) -> Headers | None:
    """The installed package's METADATA header, or None when it is not installed."""
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return None
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    return Headers(text or "")


def version(package: str) -> str | None:
    """The installed version; None when the package is not installed (the SDK then answers)."""
    found = headers(package)
    return found.get("Version") if found is not None else None
