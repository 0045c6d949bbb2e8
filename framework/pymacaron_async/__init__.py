"""Compatibility with the original pymacaron-async: ``from pymacaron_async import asynctask``.

The implementation is :mod:`pymacaron.tasks` (Celery on Redis or SQS, no task lost).
"""

from pymacaron.aliases import deprecated
from pymacaron.tasks import AsyncTask, asynctask, in_task

deprecated("pymacaron_async", "pymacaron.tasks (from pymacaron import asynctask)")

__all__ = ["asynctask", "AsyncTask", "in_task"]
