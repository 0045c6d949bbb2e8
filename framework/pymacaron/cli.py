"""``pymacaron.cli``: deprecated (until 3.3), the ``pym`` command is :mod:`pymacaron.commands`.

``python -m pymacaron.cli`` still runs ``pym`` (as ``python -m pymacaron`` does).
"""

import sys

if __name__ == "__main__":
    from pymacaron.commands import main

    sys.exit(main())
else:
    from .aliases import deprecated
    from .commands import (  # noqa: F401 - the old names
        EXIT_FAILED,
        EXIT_INTERRUPTED,
        EXIT_NO_ENGINE,
        EXIT_OK,
        EXIT_REFUSED,
        EXIT_USAGE,
        main,
    )
    from .commands.service import cmd_check, cmd_run, cmd_token, cmd_tryme  # noqa: F401

    deprecated("pymacaron.cli", "pymacaron.commands")

    def __getattr__(name: str):
        # ``from pymacaron.cli import letsgo`` (its home before the app factory): api.letsgo
        if name == "letsgo":
            from .api import letsgo

            return letsgo
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
