"""``from pymacaron.test import PyMacaronTestCase``: deprecated, use :mod:`pymacaron.testing`."""

from .aliases import deprecated
from .testing import PyMacaronTestCase, load_port_host_token

deprecated("pymacaron.test", "pymacaron.testing")

__all__ = ["PyMacaronTestCase", "load_port_host_token"]
