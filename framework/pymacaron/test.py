"""``from pymacaron.test import PyMacaronTestCase`` keeps working (see pymacaron.testing)."""

from .testing import PyMacaronTestCase, load_port_host_token

__all__ = ["PyMacaronTestCase", "load_port_host_token"]
