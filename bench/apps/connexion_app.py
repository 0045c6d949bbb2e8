"""connexion 3 serving bench/petstore.yaml with request and response validation.

``connexion_app:flask_app`` is the FlaskApp (WSGI Flask inside connexion's ASGI stack),
``connexion_app:async_app`` the AsyncApp with ``async def``
handlers; both under uvicorn.
"""

import os

import connexion_handlers
from connexion import AsyncApp, FlaskApp
from connexion.resolver import Resolver

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "petstore.yaml")


PING = {
    "swagger": "2.0",
    "info": {"title": "ping", "version": "1"},
    "paths": {
        "/ping": {"get": {"operationId": "ping", "responses": {"200": {"description": "ok"}}}}
    },
}


def _resolve(operation_id):
    name = operation_id.rsplit(".", 1)[-1]
    if os.environ.get("BENCH_CONNEXION") == "async":
        name = f"async_{name}"  # AsyncApp: async def handlers (no threadpool hop)
    return getattr(connexion_handlers, name)


def _build(cls):
    app = cls(__name__)
    app.add_api(SPEC, resolver=Resolver(_resolve), validate_responses=True, strict_validation=True)
    app.add_api(PING, resolver=Resolver(_resolve), name="ping")
    return app


flask_app = _build(FlaskApp) if os.environ.get("BENCH_CONNEXION", "flask") == "flask" else None
async_app = _build(AsyncApp) if os.environ.get("BENCH_CONNEXION") == "async" else None
