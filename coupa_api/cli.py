"""Command-line behaviour shared by tap and target: errors as sentences, not tracebacks."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click
import simplejson  # type: ignore[import-untyped]  # singer-sdk reads JSON files with it
from singer_sdk.exceptions import ConfigValidationError

from coupa_api.errors import CoupaError


def explain_errors(command: click.Command, logger: logging.Logger) -> click.Command:
    """Make `command` report our errors as their one-paragraph messages and exit 1.

    Wraps `main`, not `invoke`: `--discover` and `--test` run as eager option callbacks while
    click parses arguments, before `invoke`. singer-sdk would log any other exception with its
    traceback; ours are written for the user, so a traceback would only bury what to fix.
    """
    main = command.main

    def main_explaining(*args: Any, **kwargs: Any) -> Any:
        try:
            return main(*args, **kwargs)
        except ConfigValidationError as exc:
            for error in exc.errors or [str(exc)]:
                logger.error("Setting problem: %s", error)
            logger.error("%s; fix the settings above and run again.", exc)
            sys.exit(1)
        except CoupaError as exc:
            logger.error("%s", exc)
            sys.exit(1)
        except FileNotFoundError as exc:
            logger.error("%s Check the path given to --config, --catalog, --state or --input.", exc)
            sys.exit(1)
        except (json.JSONDecodeError, simplejson.JSONDecodeError) as exc:
            logger.error(
                "A JSON file given on the command line is not valid JSON (%s). Check the "
                "file passed to --config, --catalog or --state.",
                exc,
            )
            sys.exit(1)

    command.main = main_explaining  # type: ignore[method-assign]
    return command
