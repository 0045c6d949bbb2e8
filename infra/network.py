"""Deprecated name of :mod:`vpc`: the network constructs (the stack: infra/stacks/network.py).

Kept importable until the next minor version; importing it warns (DeprecationWarning).
"""

import sys as _sys
import warnings as _warnings

from . import vpc as _new

_warnings.warn(
    f"{__name__} is deprecated: import {__package__}.vpc (same content)",
    DeprecationWarning,
    stacklevel=2,
)
_sys.modules[__name__] = _new
