"""``python -m pymacaron ...`` is ``pym ...`` (for a Python whose bin/ is not on PATH)."""

import sys

from pymacaron.commands import main

sys.exit(main())
