"""``pymacaron.testing.cli``: deprecated (until 3.3); ``pym acceptance`` is
:mod:`pymacaron.commands.testing`."""

from __future__ import annotations

from ..aliases import deprecated
from ..commands.testing import cmd_acceptance

__all__ = ["add_commands", "main", "cmd_acceptance"]

deprecated("pymacaron.testing.cli", "pymacaron.commands.testing")


def add_commands(subparsers) -> None:
    """Add ``acceptance`` (and ``fuzz``) to a ``pym``-style parser."""
    from ..commands import testing

    testing.add_commands(subparsers)


def main(argv: list[str] | None = None) -> int:
    """The same as ``pym acceptance ARGV``."""
    from ..commands import run

    return run(["acceptance", *(argv or [])])
