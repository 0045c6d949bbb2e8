"""``from pymacaron_core.swagger.apipool import ApiPool`` keeps working."""

from pymacaron.apipool import ApiPool

__all__ = ["ApiPool"]
