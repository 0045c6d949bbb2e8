"""``from pymacaron_core.exceptions import PyMacaronCoreException`` keeps working."""

from pymacaron.aliases import deprecated
from pymacaron.exceptions import PyMacaronException as PyMacaronCoreException

deprecated("pymacaron_core.exceptions", "pymacaron.exceptions (PyMacaronException)")

__all__ = ["PyMacaronCoreException"]
