"""``pym run``'s development server: run the service's server.py, and serve its ``app``
when the script itself does not.

    python -m pymacaron.run.script server.py --port 8080 [--host H] [--debug]

The script runs as ``__main__`` (so ``letsgo`` and ``if __name__ == "__main__": run(app)``
serve as they do under ``python server.py``); if it returns without serving — a server.py
written for pymacaron 3.1, ``app = create_app(__file__)`` and nothing else — its
module-level ``app`` is served with the same options, as gunicorn and the image serve it.
"""

from __future__ import annotations

import os
import runpy
import sys

from . import run
from .dev import SERVED

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print("usage: python -m pymacaron.run.script SERVER.PY [--port P] ...", file=sys.stderr)
        return 2
    path, options = os.path.abspath(argv[0]), argv[1:]
    sys.argv = [path, *options]  # what the script's own argument parsing sees
    sys.path.insert(0, os.path.dirname(path))
    namespace = runpy.run_path(path, run_name="__main__")
    app = namespace.get("app")
    if app is None or not hasattr(app, "extensions"):
        print(f"pymacaron: {os.path.basename(path)} has no module-level 'app'", file=sys.stderr)
        return 2
    if not app.extensions.get(SERVED):
        run(app, options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
