"""``pymacaron.cli``: deprecated (until 3.3), the ``pym`` command is :mod:`pymacaron.commands`.

``python -m pymacaron.cli`` still runs ``pym`` (as ``python -m pymacaron`` does).
"""

import sys

if __name__ == "__main__":
    from pymacaron.commands import main

    sys.exit(main())
else:
    from . import commands
    from .aliases import deprecated
    from .commands import service

    deprecated("pymacaron.cli", "pymacaron.commands")

    def __getattr__(name: str):
        # the old names: main and the EXIT_* (now pymacaron.commands); cmd_check, cmd_run,
        # cmd_token, cmd_tryme (commands.service, whose add_commands this module never had)
        if name in commands.__all__:
            return getattr(commands, name)
        if name.startswith("cmd_") and name in service.__all__:
            return getattr(service, name)
        # ``from pymacaron.cli import letsgo`` (its home before the app factory): api.letsgo
        if name == "letsgo":
            from .api import letsgo

            return letsgo
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
