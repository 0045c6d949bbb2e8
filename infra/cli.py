"""``pymacaron_kit.cli``: deprecated (until 3.3); the kit's ``pym`` subcommands are defined in
:mod:`pymacaron.commands` (deploy, image, release, plan, operate)."""

from __future__ import annotations

from pymacaron.aliases import deprecated
from pymacaron.commands.deploy import (  # noqa: F401 - the old names
    cmd_bootstrap,
    cmd_deploy,
    cmd_doctor,
    cmd_new,
    cmd_synth,
)
from pymacaron.commands.image import (  # noqa: F401
    EXIT_CODES,
    cmd_image_build,
    cmd_image_promote,
    cmd_image_push,
    cmd_image_run,
)
from pymacaron.commands.release import cmd_lock, cmd_pipeline_local, cmd_smoke  # noqa: F401

__pym_alias__ = True

deprecated("pymacaron_kit.cli", "pymacaron.commands")

KIT_GROUPS = ("deploy", "image", "release", "plan", "operate")


def add_commands(sub) -> None:
    """Add the kit's subcommands to a ``pym``-style parser."""
    import importlib

    for group in KIT_GROUPS:
        importlib.import_module(f"pymacaron.commands.{group}").add_commands(sub)
