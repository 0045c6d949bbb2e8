"""``pym docs [TOPIC]``: print a guide shipped with pymacaron (guides.py finds them)."""

from __future__ import annotations

from .errors import EXIT_OK, EXIT_USAGE, exit_codes

__all__ = ["add_commands"]


def cmd_docs(args) -> int:
    from ..guides import cmd_docs as print_guide

    return print_guide(args)


def add_commands(sub) -> None:
    p = sub.add_parser(
        "docs",
        help="print a guide (deploy, pipeline, image, persist, tasks...); without TOPIC, list them",
        epilog=exit_codes((EXIT_OK, "printed"), (EXIT_USAGE, "no such guide")),
    )
    p.add_argument("topic", nargs="?", help="the guide to print (pym docs: the list)")
    p.set_defaults(func=cmd_docs)
