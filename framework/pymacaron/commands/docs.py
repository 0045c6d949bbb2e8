"""``pym docs [TOPIC]``: print a guide shipped with pymacaron (guides.py finds them)."""

from __future__ import annotations

from . import table
from .errors import EXIT_OK, EXIT_USAGE, exit_codes
from .table import Command, arg

__all__ = ["add_commands"]


def cmd_docs(args) -> int:
    from ..guides import cmd_docs as print_guide

    return print_guide(args)


COMMAND = Command(
    "docs",
    "print a guide (deploy, pipeline, image, persist, tasks...); without TOPIC, list them",
    cmd_docs,
    (arg("topic", nargs="?", help="the guide to print (pym docs: the list)"),),
    exit_codes((EXIT_OK, "printed"), (EXIT_USAGE, "no such guide")),
)


def add_commands(sub) -> None:
    table.add(sub, (COMMAND,))
