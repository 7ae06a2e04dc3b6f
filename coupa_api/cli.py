"""Command-line behaviour shared by tap and target: errors as sentences, not tracebacks."""

from __future__ import annotations

import logging
from typing import Any

import click

from coupa_api.errors import CoupaError


def explain_errors(command: click.Command, logger: logging.Logger) -> click.Command:
    """Make `command` report a CoupaError as its one-paragraph message and exit 1.

    singer-sdk's command logs any other exception with its traceback; ours are written for the
    user, so the traceback would only bury the sentence that says what to fix.
    """
    invoke = command.invoke

    def invoke_explaining(ctx: click.Context) -> Any:
        try:
            return invoke(ctx)
        except CoupaError as exc:
            logger.error("%s", exc)
            ctx.exit(1)

    command.invoke = invoke_explaining  # type: ignore[method-assign]
    return command
