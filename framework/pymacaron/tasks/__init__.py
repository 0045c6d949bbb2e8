"""Asynchronous tasks: ``@asynctask()`` on Celery, Redis locally, SQS on AWS (docs/tasks.md).

::

    from pymacaron.tasks import asynctask

    @asynctask(retries=5, backoff=2)
    def notify_order_placed(order):      # order: a pymacaron model
        ...

    def create_order(new_order):          # a handler
        task_id = notify_order_placed(order)   # enqueued, returns at once

Called while serving a request of a service with ``with_async: true``, the call enqueues
the task and returns its id at once. Called anywhere else (outside a request, inside a
running task, or with ``with_async: false``) the function runs inline and its result is
returned. Arguments are checked when enqueued: JSON values, dates and models (lists and
dicts of them too) travel; models come back as the same model classes in the worker.

The request id and the caller's identity travel with the task. The user's token does not
(it may expire while the task waits): the envelope carries the verified user id, signed with
the service's ``jwt_secret``; the worker checks that signature and gives the task a fresh,
short-lived token for that user, so ``get_userid()``, ``get_user_token()`` and client calls
with ``pymacaron.auth.add_auth`` behave in the task as they did in the request.

Delivery is at least once (late acknowledgement): write tasks so that running one twice
does no harm. A task that keeps failing is retried ``retries`` times with exponential
backoff, then put on the dead-letter queue and reported through the ``error_reporter``.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import functools
import hashlib
import hmac
import importlib
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from ..config import get_config
from ..exceptions import add_error
from ..logs import _request_id, get_request_id, set_request_id
from .serialize import TaskArgumentError, decode, encode
from .settings import task_settings, with_async_enabled

if TYPE_CHECKING:
    from flask import Flask

# Flask and the auth helpers are imported where a task is enqueued or run, not here: the
# image's entrypoint (tasks/supervise.py, in this package) must not import Flask before it
# execs the server (issue 30: cold start).

log = logging.getLogger("pymacaron.tasks")

__all__ = [
    "asynctask",
    "AsyncTask",
    "TaskArgumentError",
    "TaskQueueUnavailableError",
    "in_task",
    "task_settings",
    "with_async_enabled",
]

TaskQueueUnavailableError = add_error("TaskQueueUnavailableError", "TASK_QUEUE_UNAVAILABLE", 503)

ENVELOPE_VERSION = 1
MAX_BACKOFF = 300  # seconds: a retry waits in the worker, well within the visibility timeout
TASK_TOKEN_TTL = 900  # seconds a task's user token lives (minted when the task starts)

P = ParamSpec("P")
R = TypeVar("R")
# A task's envelope: JSON values (what travels on the queue)
Envelope = dict[str, Any]

_in_task: contextvars.ContextVar[bool] = contextvars.ContextVar("pym_in_task", default=False)


def in_task() -> bool:
    """True while a task runs in the worker (tasks it calls then run inline)."""
    return _in_task.get()


class AsyncTask(Generic[P, R]):
    """A function that runs on the task queue when called while serving a request: called,
    it returns the function's result (run inline) or the task id (enqueued)."""

    def __init__(
        self,
        fn: Callable[P, R],
        delay: float = 0,
        retries: int = 3,
        backoff: float = 2.0,
        queue: str | None = None,
    ):
        if retries < 0 or delay < 0 or backoff < 0:
            raise ValueError("asynctask(): delay, retries and backoff must be >= 0")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.delay = float(delay)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.queue = queue
        self.name = f"{fn.__module__}:{fn.__qualname__}"

    def __repr__(self) -> str:
        return f"<asynctask {self.name}>"

    def __get__(
        self, obj: object, objtype: type | None = None
    ) -> AsyncTask[P, R] | functools.partial[R | str]:  # plain functions only, methods sane
        if obj is None:
            return self
        # the instance is the method's first argument, which P cannot say
        return functools.partial(self.__call__, obj)  # type: ignore[arg-type]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R | str:
        if not _should_enqueue():
            if _in_request():
                # Same checks as when enqueued: switching with_async on never breaks a call.
                encode(list(args), f"{self.name}: argument")
                encode(kwargs, f"{self.name}: argument")
            return self.fn(*args, **kwargs)
        return self.enqueue(*args, **kwargs)

    def run_inline(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run now, in this process, whatever the configuration."""
        return self.fn(*args, **kwargs)

    def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """Put the task on the queue now and return its id (raises if it cannot)."""
        envelope = make_envelope(self, args, kwargs)
        # Lazy on purpose: engine imports Celery (an optional dependency, the `tasks` extra)
        # and builds on this module (resolve, run_envelope), not the reverse.
        from . import engine

        engine.publish(envelope, delay=self.delay, queue=self.queue)
        task_id: str = envelope["id"]
        log.info("enqueued task %s id=%s", self.name, task_id)
        return task_id

    def backoff_delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
        return float(min(MAX_BACKOFF, self.backoff * (2 ** max(0, attempt - 1))))


@overload
def asynctask(delay: Callable[P, R]) -> AsyncTask[P, R]: ...
@overload
def asynctask(
    delay: float = 0, retries: int = 3, backoff: float = 2.0, queue: str | None = None
) -> Callable[[Callable[P, R]], AsyncTask[P, R]]: ...
def asynctask(
    delay: float | Callable[P, R] = 0,
    retries: int = 3,
    backoff: float = 2.0,
    queue: str | None = None,
) -> AsyncTask[P, R] | Callable[[Callable[P, R]], AsyncTask[P, R]]:
    """Decorator: ``@asynctask()`` makes a function a task (see the module doc).

    ``delay``: seconds before the task may start; ``retries``: how many times a failing task
    is tried again; ``backoff``: seconds before the first retry, doubled at each retry (at
    most 300); ``queue``: another queue than the service's ``task_queue`` (its worker must
    consume it).
    """
    if callable(delay):  # @asynctask without ()
        return AsyncTask(delay)
    seconds = delay

    def wrap(fn: Callable[P, R]) -> AsyncTask[P, R]:
        return AsyncTask(fn, delay=seconds, retries=retries, backoff=backoff, queue=queue)

    return wrap


# -- when to enqueue ---------------------------------------------------------------------
def _in_request() -> bool:
    from flask import has_request_context

    return has_request_context()


def _should_enqueue() -> bool:
    return not _in_task.get() and _in_request() and with_async_enabled()


# -- the envelope: what travels -----------------------------------------------------------
def _secret() -> bytes | None:
    secret: str | None = get_config().get("jwt_secret")
    return secret.encode() if secret else None


def _signed_part(envelope: Envelope) -> bytes:
    part = {k: v for k, v in envelope.items() if k not in ("sig", "dead_letter")}
    return json.dumps(part, sort_keys=True, separators=(",", ":")).encode()


def sign(envelope: Envelope) -> Envelope:
    secret = _secret()
    if secret is not None:
        envelope["sig"] = hmac.new(secret, _signed_part(envelope), hashlib.sha256).hexdigest()
    return envelope


def signature_ok(envelope: Envelope) -> bool:
    """True when the envelope was signed with this service's jwt_secret (or carries no
    identity and the service has no secret)."""
    secret = _secret()
    if secret is None:
        return not envelope.get("user_id")
    expected = hmac.new(secret, _signed_part(envelope), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, str(envelope.get("sig") or ""))


def make_envelope(
    task: AsyncTask[..., Any], args: tuple[object, ...], kwargs: dict[str, object]
) -> Envelope:
    envelope: Envelope = {
        "v": ENVELOPE_VERSION,
        "id": uuid.uuid4().hex,
        "task": task.name,
        "args": encode(list(args), f"{task.name}: argument"),
        "kwargs": encode(kwargs, f"{task.name}: argument"),
        "request_id": get_request_id(),
        "user_id": _userid() if _in_request() else None,
        "enqueued_at": datetime.datetime.now(datetime.UTC).isoformat(),
    }
    return sign(envelope)


def _userid() -> str | None:
    from ..auth import get_userid

    return get_userid()


def resolve(name: str) -> AsyncTask[..., Any]:
    """The @asynctask an envelope names; only decorated functions can be run."""
    module_name, _, qualname = name.partition(":")
    if not module_name or not qualname:
        raise LookupError(f"malformed task name {name!r}")
    obj: object = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, AsyncTask):
        raise LookupError(f"{name} is not an @asynctask")
    return obj


# -- running a task in the worker ----------------------------------------------------------
_flask_app: Flask | None = None


def set_flask_app(app: Flask | None) -> None:
    """The service's Flask app, whose context tasks run in (set by the worker)."""
    global _flask_app
    _flask_app = app


@contextlib.contextmanager
def task_context(envelope: Envelope) -> Iterator[None]:
    """Request id, identity and a Flask request context for a task run by the worker."""
    from flask import Flask, g

    from ..auth import backend_token, decode_token

    global _flask_app
    if _flask_app is None:
        _flask_app = Flask("pymacaron-task")
    rid = envelope.get("request_id") or envelope.get("id")
    headers = {"X-Request-ID": rid}
    flag = _in_task.set(True)
    rid_token = set_request_id(rid)
    try:
        with _flask_app.test_request_context(f"/_task/{envelope.get('task')}", headers=headers):
            user_id = envelope.get("user_id")
            if user_id:
                # A fresh token for the user, checked like any incoming one.
                token = backend_token(user_id=user_id, expire_in=TASK_TOKEN_TTL)
                g.pym_token = token
                g.pym_token_payload = decode_token(token)
            yield
    finally:
        _request_id.reset(rid_token)
        _in_task.reset(flag)


def run_envelope(envelope: Envelope) -> object:
    """Resolve, check and run the task an envelope describes (in the worker)."""
    task = resolve(envelope["task"])
    if not signature_ok(envelope):
        raise PermissionError(
            f"task {envelope.get('id')}: the envelope's signature does not match this "
            "service's jwt_secret (forged, or signed by another service)"
        )
    args = decode(envelope.get("args") or [])
    kwargs = decode(envelope.get("kwargs") or {})
    with task_context(envelope):
        return task.fn(*args, **kwargs)
