"""``python -m pymacaron.serve`` (what the image runs) is :mod:`pymacaron.run.serve`.

Imported, this name is that very module (see aliases.py); run, it starts the server.
"""

import sys

if __name__ == "__main__":
    from pymacaron.run.serve import main

    main()
else:
    from .run import serve as _serve

    sys.modules[__name__] = _serve
