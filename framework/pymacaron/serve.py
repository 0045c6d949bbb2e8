"""``python -m pymacaron.serve`` (what the image runs) is :mod:`pymacaron.run.serve`.

Imported (deprecated: use pymacaron.run.serve), this name is that very module; run, it
starts the server.
"""

import sys

if __name__ == "__main__":
    from pymacaron.run.serve import main

    main()
else:
    from .aliases import deprecated
    from .run import serve as _serve

    deprecated("import pymacaron.serve", "pymacaron.run.serve (python -m pymacaron.serve stays)")
    sys.modules[__name__] = _serve
