"""`python -m target_coupa`."""

from target_coupa.target import TargetCoupa

TargetCoupa.cli()
