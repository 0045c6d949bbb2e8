"""Numbers from the environment, for the processes that start before anything else is
imported (the server's launcher, the task worker's watchdog): this module imports only os."""

from __future__ import annotations

import os
from typing import TypeVar

__all__ = ["env_number"]

N = TypeVar("N", int, float)

_KIND = {int: "an integer", float: "a number"}


def env_number(program: str, name: str, default: N, parse: type[N]) -> N:
    """``parse(os.environ[name])``; ``default`` when unset or blank; otherwise a
    SystemExit naming ``program``, the variable and its value."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return parse(value)
    except ValueError:
        raise SystemExit(f"{program}: {name}={value!r} is not {_KIND[parse]}") from None
