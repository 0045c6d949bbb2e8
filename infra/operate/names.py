"""Deprecated name of :mod:`infra.names`, where every AWS name of a service is built.

Kept importable until the next minor version; importing it warns (DeprecationWarning).
"""

import sys as _sys
import warnings as _warnings

from .. import names as _new

_warnings.warn(
    f"{__name__} is deprecated: import {_new.__name__} (same content)",
    DeprecationWarning,
    stacklevel=2,
)
_sys.modules[__name__] = _new
