"""``from pymacaron_core.swagger.apipool import ApiPool`` keeps working."""

from pymacaron.aliases import deprecated
from pymacaron.apipool import ApiPool

deprecated("pymacaron_core.swagger.apipool", "pymacaron.ApiPool")

__all__ = ["ApiPool"]
