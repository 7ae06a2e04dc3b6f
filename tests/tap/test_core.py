"""singer-sdk's standard tap tests, for every stream, against a dedicated emulator.

The SDK builds these tests when the module is imported (it discovers the streams then), so
this module starts its own emulator at import and stops it when the module's tests end. The
SDK's duplicate-primary-key check never fires in 0.54.9; test_exact_set.py is the real one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from coupa_emulator.config import EmulatorConfig
from coupa_emulator.server import start_in_thread
from tap_coupa.tap import TapCoupa
from tests.tap.conftest import tap_config

EMULATOR = start_in_thread(EmulatorConfig(seed=11, scale=60, settle_seconds=0))

_StandardTests = get_tap_test_class(
    TapCoupa,
    config=tap_config(EMULATOR.base_url, start_date="2020-01-01T00:00:00Z"),
    suite_config=SuiteConfig(max_records_limit=120),
    parse_env_config=False,
)


class TestTapCoupa(_StandardTests):  # type: ignore[misc,valid-type]
    """Standard tap, stream and attribute tests."""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _stop_emulator(cls) -> Iterator[None]:
        yield
        EMULATOR.stop()
