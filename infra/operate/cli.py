"""``pymacaron_kit.operate.cli``: deprecated (until 3.3); ``pym status|logs|rollback|url|open``
are :mod:`pymacaron.commands.operate`."""

from __future__ import annotations

from pymacaron.aliases import deprecated
from pymacaron.commands.operate import (  # noqa: F401 - the old names
    STAGE_HELP,
    add_commands,
    cmd_logs,
    cmd_open,
    cmd_rollback,
    cmd_status,
    cmd_url,
    exit_codes,
)

from .aws import resolve  # noqa: F401

__pym_alias__ = True

deprecated("pymacaron_kit.operate.cli", "pymacaron.commands.operate")


def parser():
    """The ``pym`` parser (it has these commands)."""
    from pymacaron.commands import build_parser

    return build_parser()


def main(argv: list[str] | None = None, **inject) -> int:
    """Run one command as ``pym`` does, returning its exit code (``inject``: see
    :func:`pymacaron.commands.run`)."""
    from pymacaron.commands import run

    return run(argv, **inject)
