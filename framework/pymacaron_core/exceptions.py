"""``from pymacaron_core.exceptions import PyMacaronCoreException`` keeps working."""

from pymacaron.exceptions import PyMacaronException as PyMacaronCoreException

__all__ = ["PyMacaronCoreException"]
