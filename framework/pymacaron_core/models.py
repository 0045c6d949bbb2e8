"""``from pymacaron_core.models import PyMacaronModel`` keeps working."""

from pymacaron.models import PyMacaronModel

__all__ = ["PyMacaronModel"]
