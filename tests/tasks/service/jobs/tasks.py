"""Tasks whose effects the tests observe: JSON lines in $JOBS_OUT/effects.jsonl."""

import datetime
import json
import os
import time

from pymacaron.auth import decode_token, get_user_token, get_userid
from pymacaron.logs import get_request_id
from pymacaron.models import PyMacaronModel
from pymacaron.tasks import asynctask, in_task


def effect(**data) -> None:
    data.update(
        pid=os.getpid(),
        in_task=in_task(),
        request_id=get_request_id(),
        user=get_userid(),
        at=time.time(),
    )
    with open(os.path.join(os.environ["JOBS_OUT"], "effects.jsonl"), "a") as f:
        f.write(json.dumps(data) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _kind(v) -> str:
    return type(v).__name__


@asynctask(retries=0)
def record(value, pet, pets=(), by_name=None, when=None):
    token = get_user_token()
    effect(
        kind="record",
        value=value,
        pet_class=_kind(pet),
        pet_is_model=isinstance(pet, PyMacaronModel),
        pet=pet.to_json() if pet is not None else None,
        owner_class=_kind(pet.owner) if pet is not None else None,
        born_class=_kind(pet.born) if pet is not None else None,
        pets_classes=[_kind(p) for p in pets],
        by_name_classes={k: _kind(v) for k, v in (by_name or {}).items()},
        when_is_datetime=isinstance(when, datetime.datetime),
        token_sub=decode_token(token)["sub"] if token else None,
    )
    return "inline"


@asynctask(retries=0, queue="jobs-slow")  # its own queue: only the kill test's workers
def slow(value, seconds):
    effect(kind="slow-started", value=value)
    time.sleep(seconds)
    effect(kind="slow-done", value=value)


@asynctask(retries=2, backoff=0.2)
def poison(value):
    effect(kind="poison-attempt", value=value)
    raise RuntimeError(f"poison task {value} always fails")
