"""``from pymacaron_core.models import PyMacaronModel`` keeps working."""

from pymacaron.aliases import deprecated
from pymacaron.models import PyMacaronModel

deprecated("pymacaron_core.models", "pymacaron.models")

__all__ = ["PyMacaronModel"]
