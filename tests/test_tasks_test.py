"""`python3 tasks.py test`: the pytest arguments it builds (workers, tiers, the user's own)."""

from __future__ import annotations

import argparse

import pytest

from devtasks.testing import SLOW_MARKERS, WORKERS, pytest_args


def args_of(*extra: str, fast: bool = False) -> list[str]:
    return pytest_args(argparse.Namespace(fast=fast, pytest_args=list(extra)))


def test_the_suite_runs_on_workers_one_file_at_a_time() -> None:
    built = args_of()
    assert built[built.index("-n") + 1] == str(WORKERS)
    assert built[built.index("--dist") + 1] == "loadfile"


@pytest.mark.parametrize(
    "own", [["-n", "0"], ["-n0"], ["--numprocesses=4"], ["-p", "no:xdist"], ["--pdb"]]
)
def test_the_users_own_worker_choice_wins(own: list[str]) -> None:
    built = args_of(*own)
    assert built.count("-n") == own.count("-n")
    assert "--dist" not in built
    assert built[-len(own) :] == own


def test_fast_leaves_out_every_slow_tier_and_keeps_the_users_arguments() -> None:
    built = args_of("tests/tap", "-k", "pagination", fast=True)
    expression = built[built.index("-m") + 1]
    assert all(marker in expression for marker in SLOW_MARKERS)
    assert expression.startswith("not (")
    assert built[-3:] == ["tests/tap", "-k", "pagination"]


def test_a_test_file_that_names_minus_n_is_not_a_worker_choice() -> None:
    built = args_of("tests/tap/test_no_network.py", "-k", "n-gram")
    assert built[built.index("-n") + 1] == str(WORKERS)
