"""Values from the environment, for the processes that start before anything else is
imported (the server's launcher, the task worker's watchdog): this module imports only os.

Numbers (``env_number``) and where pymacaron keeps its per-user cache (``cache_root``: spec
check records, the kit's CDK CLI, dynalite)."""

from __future__ import annotations

import os
from typing import TypeVar

__all__ = ["env_number", "cache_root", "CACHE_OFF"]

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


# PYM_CACHE_DIR values that turn the spec check records off (the tools still need a home)
CACHE_OFF = ("", "0", "off", "no", "false", "none")


def cache_root() -> str:
    """``$PYM_CACHE_DIR``, else ``$XDG_CACHE_HOME/pymacaron``, else ``~/.cache/pymacaron``
    (a PYM_CACHE_DIR in ``CACHE_OFF`` counts as unset here)."""
    value = os.environ.get("PYM_CACHE_DIR", "").strip()
    if value.lower() not in CACHE_OFF:
        return value
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pymacaron")
