"""Deprecated name of :mod:`package_data`: paths of the files the kit ships (Dockerfile, templates).

Kept importable until the next minor version; importing it warns (DeprecationWarning).
"""

import sys as _sys
import warnings as _warnings

from . import package_data as _new

_warnings.warn(
    f"{__name__} is deprecated: import {__package__}.package_data (same content)",
    DeprecationWarning,
    stacklevel=2,
)
_sys.modules[__name__] = _new
