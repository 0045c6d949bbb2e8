"""A group of ``pym`` subcommands as data: each a :class:`Command` row, added by :func:`add`.

A command group whose commands share their shape (a help line, a description, an epilog,
options, one handler) lists them as rows instead of repeating ``add_parser`` blocks.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Arg", "Command", "arg", "add"]

# one add_argument call: its flags (or the positional's name) and its keywords
Arg = tuple[tuple[str, ...], dict[str, Any]]


def arg(*flags: str, **kwargs: Any) -> Arg:
    return flags, kwargs


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    func: Callable[[argparse.Namespace], int]
    args: tuple[Arg, ...] = ()
    epilog: str | None = None
    description: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)


def _wrapped(text: str | None) -> str | None:
    """One paragraph wrapped at 79 columns; a text of several lines as it is written."""
    return textwrap.fill(text, 79) if text and "\n" not in text else text


def add(sub: Any, commands: Iterable[Command], common: Iterable[Arg] = (), **defaults: Any) -> None:
    """Each command a subparser of ``sub``: its arguments, then ``common``'s; ``defaults`` (and
    the row's own) set on its namespace, with ``func`` its handler."""
    common = tuple(common)
    for c in commands:
        p = sub.add_parser(
            c.name,
            help=c.help,
            description=_wrapped(c.description),
            epilog=_wrapped(c.epilog),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        for flags, kwargs in c.args + common:
            p.add_argument(*flags, **kwargs)
        p.set_defaults(func=c.func, **defaults, **c.defaults)
