"""cli: thin. Parse arguments, call the library, map errors to exit codes. The group and
the error mapping are in cli.base; each module beside it adds its commands."""

from aggregator.cli import data, running, serving, sources  # noqa: F401 - registers commands
from aggregator.cli.base import cli, main

__all__ = ["cli", "main"]
