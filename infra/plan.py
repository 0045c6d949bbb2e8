"""Deprecated name of :mod:`template_diff`: `pym plan`, the offline template diff (not deploy.plan_deploy).

Kept importable until the next minor version; importing it warns (DeprecationWarning).
"""

import sys as _sys
import warnings as _warnings

from . import template_diff as _new

_warnings.warn(
    f"{__name__} is deprecated: import {__package__}.template_diff (same content)",
    DeprecationWarning,
    stacklevel=2,
)
_sys.modules[__name__] = _new
