"""Which service is this? The one whose Flask app serves this request, else the last one
started: one lookup for the config (config.py), the error hooks (server/replies.py) and the
process-wide views (app.py). No Flask import here: the deploy kit reads configs too.
"""

from __future__ import annotations

import contextvars
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: current.py imports nothing of the service at run time
    from .app import Service

__all__ = ["EXTENSION", "serving", "last_started", "set_last_started", "SERVING"]

EXTENSION = "pymacaron"  # app.extensions[EXTENSION] is the app's Service (app.py)

_last: list[Service] = []

# The Service of a request served without Flask's contexts (server/fastpath.py), set for
# the length of that request only.
SERVING: contextvars.ContextVar[Service | None] = contextvars.ContextVar(
    "pym_serving", default=None
)


def serving() -> Service | None:
    """The Service of the app serving this request (or app context), else None."""
    service = SERVING.get()
    if service is not None:
        return service
    flask = sys.modules.get("flask")
    if flask is not None and flask.has_app_context():
        found: Service | None = flask.current_app.extensions.get(EXTENSION)
        return found
    return None


def last_started() -> Service | None:
    """The last service whose app was started in this process, else None."""
    return _last[0] if _last else None


def set_last_started(service: Service) -> None:
    _last[:] = [service]
