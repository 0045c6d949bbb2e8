"""Deprecated name of :mod:`pipeline_steps`: the pipeline's steps and building blocks (the stack: infra/stacks/pipeline.py).

Kept importable until the next minor version; importing it warns (DeprecationWarning).
"""

import sys as _sys
import warnings as _warnings

from . import pipeline_steps as _new

_warnings.warn(
    f"{__name__} is deprecated: import {__package__}.pipeline_steps (same content)",
    DeprecationWarning,
    stacklevel=2,
)
_sys.modules[__name__] = _new
