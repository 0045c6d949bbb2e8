"""Handlers of the OpenAPI 3.1 styles service (tests/framework/test_oas3_*.py)."""

from pymacaron.models import PyMacaronModel


def get_items(ids, filter=None, tags=None, x_trace=None, session=None, q=None, pick=None):
    read = {
        "ids": ids,
        "filter": filter,
        "tags": tags,
        "trace": x_trace,
        "session": session,
        "q": q,
        "pick": pick,
    }
    if x_trace == "csv":
        return ",".join(str(i) for i in ids), 200, {"X-Count": str(len(ids))}
    if x_trace == "no-count":
        return read
    return read, 200, {"X-Count": str(len(ids))}


def add_pet(pet):
    out = pet.to_json() if isinstance(pet, PyMacaronModel) else dict(pet)
    out["model"] = type(pet).__name__
    photo = out.pop("photo", None)
    if photo is not None:
        out["photo_name"] = photo.filename
        out["tags"] = [photo.read().decode()]
    out["id"] = 7
    return out, 201
