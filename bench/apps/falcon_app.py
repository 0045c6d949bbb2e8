"""Falcon (WSGI) serving the petstore, validated both ways with jsonschema the way Falcon's
media validator does it (``falcon.media.validators.jsonschema.validate``: the request body
against NewPet, a 400 ``MediaValidationError`` with jsonschema's best message; every
response against Pet / [Pet], a 500 if it does not match), the schemas read from
bench/petstore.yaml. Query and path parameters go through Falcon's own converters
(``get_param_as_int`` with bounds, the ``int(min=1)`` route converter). JSON in and out with
orjson, as Falcon's docs show for a faster JSON library. Served by granian's WSGI interface.

The validators are built once (``Draft4Validator``, the dialect of a Swagger 2.0 spec), as a
performance-minded Falcon service writes it: the stock decorator calls
``jsonschema.validate()``, which checks the schema against its metaschema and builds a
validator on every call, ~25 ms per call with jsonschema 4.26 here (the extra row
``falcon-granian-stock``, ``BENCH_FALCON=stock``, measures it as shipped).
"""

import os

import falcon
import falcon.media
import orjson
import yaml
from data import NEW_ID, PETS, PETS_BY_ID
from falcon.media.validators import jsonschema

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "petstore.yaml")
with open(SPEC) as f:
    DEFINITIONS = yaml.safe_load(f)["definitions"]


def schema(body: dict) -> dict:
    """A JSON Schema whose $refs (#/definitions/...) resolve in the petstore's definitions."""
    return {**body, "definitions": DEFINITIONS}


NEW_PET = schema(DEFINITIONS["NewPet"])
PET = schema(DEFINITIONS["Pet"])
PET_LIST = schema({"type": "array", "items": {"$ref": "#/definitions/Pet"}})


if os.environ.get("BENCH_FALCON") != "stock":
    import jsonschema as _js

    def _compiled(req_schema=None, resp_schema=None):
        """The stock decorator's checks and errors, the validators built once."""
        req_check = _js.Draft4Validator(req_schema) if req_schema else None
        resp_check = _js.Draft4Validator(resp_schema) if resp_schema else None

        def decorator(func):
            def wrapper(self, req, resp, *args, **kwargs):
                if req_check is not None:
                    error = _js.exceptions.best_match(req_check.iter_errors(req.media))
                    if error is not None:
                        raise falcon.MediaValidationError(
                            title="Request data failed validation", description=error.message
                        )
                result = func(self, req, resp, *args, **kwargs)
                if resp_check is not None and not resp_check.is_valid(resp.media):
                    raise falcon.HTTPInternalServerError(title="Response data failed validation")
                return result

            return wrapper

        return decorator

    jsonschema = type("Compiled", (), {"validate": staticmethod(_compiled)})


class Ping:
    def on_get(self, req, resp):
        resp.media = {}


class Pets:
    @jsonschema.validate(resp_schema=PET_LIST)
    def on_get(self, req, resp):
        limit = req.get_param_as_int("limit", min_value=1, max_value=100, default=20)
        resp.media = PETS[:limit]

    @jsonschema.validate(req_schema=NEW_PET, resp_schema=PET)
    def on_post(self, req, resp):
        resp.media = {**req.get_media(), "id": NEW_ID, "status": "available"}
        resp.status = falcon.HTTP_201


class Pet:
    @jsonschema.validate(resp_schema=PET)
    def on_get(self, req, resp, pet_id):
        pet = PETS_BY_ID.get(pet_id)
        if pet is None:
            raise falcon.HTTPNotFound(title="PET_NOT_FOUND")
        resp.media = pet


JSON = falcon.media.JSONHandler(dumps=orjson.dumps, loads=orjson.loads)

app = falcon.App()
app.req_options.media_handlers[falcon.MEDIA_JSON] = JSON
app.resp_options.media_handlers[falcon.MEDIA_JSON] = JSON
app.add_route("/ping", Ping())
app.add_route("/pets", Pets())
app.add_route("/pets/{pet_id:int(min=1)}", Pet())
