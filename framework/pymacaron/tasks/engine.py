"""The Celery side: one app per process, one generic task that runs any @asynctask.

Every message is the Celery task ``pymacaron.run`` with one argument, the envelope
(see ``pymacaron.tasks``). One generic task means the worker never needs the task modules
imported in advance: it imports the module the envelope names, and runs the function only
if it is an ``@asynctask``.

Reliability settings (docs/tasks.md):
- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged only when
  the task has finished (or has been re-published as a retry, or dead-lettered); a worker
  killed mid-task leaves it unacknowledged and the broker delivers it again (Redis: after
  ``task_visibility_timeout``; SQS: when the message's visibility timeout ends).
- ``worker_prefetch_multiplier = 1``: a worker holds at most one extra message per process.
- retries are new messages (Celery ``retry`` with a countdown), so a failing task never blocks
  the queue; after ``retries`` retries the envelope goes to the dead-letter queue (a plain
  message no worker consumes), with the error, and the error reporter is called.
- On SQS, the queue's redrive policy also moves a message received too many times without
  being acknowledged (a task that kills its worker) to the same dead-letter queue.
"""

from __future__ import annotations

import datetime
import logging
import os
import threading
import traceback

from celery import Celery
from celery.exceptions import Reject
from kombu import Queue

from . import TaskQueueUnavailableError, resolve, run_envelope
from .settings import TaskSettings, task_settings

log = logging.getLogger("pymacaron.tasks")

__all__ = ["celery_app", "publish", "dead_letter", "outbox", "reset", "TASK_NAME"]

TASK_NAME = "pymacaron.run"
PUBLISH_RETRY_POLICY = {
    "max_retries": 3,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1.0,
}

_app: Celery | None = None
_settings: TaskSettings | None = None
_lock = threading.Lock()


def _transport_options(s: TaskSettings) -> dict:
    if s.is_sqs:
        options = {
            "predefined_queues": {name: {"url": url} for name, url in s.queue_urls.items()},
            "wait_time_seconds": 20,
            "polling_interval": 1,
            "visibility_timeout": s.visibility_timeout,
        }
        if s.region:
            options["region"] = s.region
        return options
    return {
        "visibility_timeout": s.visibility_timeout,
        # Look for messages of dead workers every second (cheap: one ZRANGE).
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
        "max_retries": 3,
    }


# Celery settings that no configuration changes: JSON only, no results, acknowledged after
# the task ran (a worker lost mid-task returns it to the queue), one task prefetched.
_CELERY_SETTINGS = {
    "task_serializer": "json",
    "accept_content": ["json"],
    "result_serializer": "json",
    "result_backend": None,
    "task_ignore_result": True,
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "task_acks_on_failure_or_timeout": True,
    "worker_prefetch_multiplier": 1,
    "worker_hijack_root_logger": False,
    "worker_redirect_stdouts": False,
    "worker_send_task_events": False,
    "worker_enable_remote_control": False,
    "worker_cancel_long_running_tasks_on_connection_loss": True,
    "task_send_sent_event": False,
    "enable_utc": True,
}


def build_app(s: TaskSettings) -> Celery:
    """A Celery app configured for these settings (no connection is made here)."""
    if s.is_sqs:
        missing = {s.task_queue, s.dead_letter_queue} - set(s.queue_urls)
        if missing:
            raise RuntimeError(
                "with an sqs:// broker, set PYM_TASK_QUEUE_URL and PYM_DEAD_LETTER_QUEUE_URL "
                "(the stage stack does): the worker only uses queues it is given"
            )
    app = Celery(f"pymacaron-{s.service}", set_as_current=False)
    app.conf.update(
        broker_url=s.broker_url,
        broker_transport_options=_transport_options(s),
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        task_default_queue=s.task_queue,
        task_queues=[Queue(s.task_queue)],
        task_create_missing_queues=not s.is_sqs,
        **_CELERY_SETTINGS,
    )

    @app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)
    def run(self, envelope):
        return _run(self, envelope)

    return app


def celery_app() -> Celery:
    """This process's Celery app (built on first use from pym-config + environment)."""
    global _app, _settings
    if _app is None:
        with _lock:
            if _app is None:
                _settings = task_settings()
                _app = build_app(_settings)
    return _app


def settings() -> TaskSettings:
    celery_app()
    return _settings


def reset() -> None:
    """Forget the app (tests that change the configuration)."""
    global _app, _settings
    _outboxes.clear()
    with _lock:
        if _app is not None:
            _app.close()
        _app, _settings = None, None


_outboxes: dict[int, object] = {}


def outbox():
    """This process's task outbox (Redis brokers; None on SQS), see tasks/outbox.py."""
    s = settings()
    if not s.is_redis:
        return None
    box = _outboxes.get(os.getpid())  # one client per process: workers fork
    if box is None:
        from .outbox import Outbox

        box = _outboxes[os.getpid()] = Outbox(
            s.broker_url, f"{s.task_queue}:outbox", redeliver_after=2 * s.visibility_timeout
        )
    return box


def _finished(envelope) -> None:
    box = outbox()
    if box is not None and isinstance(envelope, dict):
        box.done(envelope.get("id"))


def publish(
    envelope: dict, delay: float = 0, queue: str | None = None, *, again: bool = False
) -> None:
    """Send an envelope to the task queue; raises TaskQueueUnavailableError if it cannot.

    ``again``: the outbox's re-publishing of a task already acknowledged to its caller
    (tasks/outbox.py); when that send fails the outbox entry stays, so the next round tries
    again (a first publish that fails is forgotten: its caller hears it failed)."""
    app = celery_app()
    try:
        box = outbox()
        if box is not None:  # first on disk beside the queue: see tasks/outbox.py
            box.add(envelope, delay, queue)
        app.send_task(
            TASK_NAME,
            args=[envelope],
            task_id=envelope["id"],
            queue=queue or _settings.task_queue,
            countdown=delay or None,
            retry=True,
            retry_policy=PUBLISH_RETRY_POLICY,
        )
    except Exception as e:
        if not again:
            _finished(envelope)  # the caller hears it failed: not to be run later
        log.error("cannot enqueue task %s: %s: %s", envelope.get("task"), type(e).__name__, e)
        raise TaskQueueUnavailableError(
            f"the task queue is unreachable ({_settings.describe()}): {type(e).__name__}"
        ) from None


def dead_letter(envelope: dict, error: str, attempts: int, tb: str | None = None) -> None:
    """Put an envelope on the dead-letter queue and report it; raises if the queue fails.

    The message is a normal ``pymacaron.run`` message: moving it back to the task queue
    (SQS "start DLQ redrive", or LMOVE on Redis) runs the task again with fresh retries.
    """
    app = celery_app()
    s = _settings
    letter = dict(envelope)
    letter["dead_letter"] = {
        "error": error[:2000],
        "attempts": attempts,
        "at": datetime.datetime.now(datetime.UTC).isoformat(),
        "worker_pid": os.getpid(),
    }
    app.send_task(
        TASK_NAME,
        args=[letter],
        task_id=envelope.get("id"),
        queue=s.dead_letter_queue,
        retry=True,
        retry_policy=PUBLISH_RETRY_POLICY,
    )
    log.error(
        "task %s id=%s dead-lettered to %r after %d attempt(s): %s",
        envelope.get("task"),
        envelope.get("id"),
        s.dead_letter_queue,
        attempts,
        error,
    )
    from ..hooks import current_hooks

    reporter = current_hooks().reporter  # the worker's service's error_reporter
    reporter.report(
        f"TASK_DEAD_LETTERED: {envelope.get('task')}: {error[:200]}",
        {
            "task": envelope.get("task"),
            "task_id": envelope.get("id"),
            "request_id": envelope.get("request_id"),
            "user_id": envelope.get("user_id"),
            "attempts": attempts,
            "error": error,
            "traceback": tb,
            "dead_letter_queue": s.dead_letter_queue,
        },
    )
    reporter.flush(timeout=5)


def _run(celery_task, envelope: dict):
    from ..logs import set_request_id

    if not isinstance(envelope, dict) or "task" not in envelope:
        _dead_letter_or_requeue(
            {"task": None, "payload": repr(envelope)[:1000]}, "malformed message", 1
        )
        return None
    attempt = celery_task.request.retries + 1
    token = set_request_id(envelope.get("request_id") or envelope.get("id"))
    try:
        try:
            task = resolve(envelope["task"])
        except Exception as e:  # a permanent failure: no point in retrying
            _dead_letter_or_requeue(envelope, f"cannot load the task: {e!r}", attempt)
            return None
        try:
            log.info("task %s id=%s attempt %d", task.name, envelope.get("id"), attempt)
            run_envelope(envelope)
            log.info("task %s id=%s done", task.name, envelope.get("id"))
            _finished(envelope)
            return None
        except PermissionError as e:
            _dead_letter_or_requeue(envelope, str(e), attempt)
            return None
        except Exception as e:
            tb = traceback.format_exc()
            if attempt <= task.retries:
                countdown = task.backoff_delay(attempt)
                log.warning(
                    "task %s id=%s failed (attempt %d of %d), retrying in %.1fs: %r",
                    task.name,
                    envelope.get("id"),
                    attempt,
                    task.retries + 1,
                    countdown,
                    e,
                )
                box = outbox()
                if box is not None:  # due again after the backoff, not before
                    box.add(envelope, countdown, None)
                raise celery_task.retry(
                    args=[envelope],
                    countdown=countdown,
                    max_retries=task.retries,
                    exc=e,
                    queue=celery_task.request.delivery_info.get("routing_key")
                    or _settings.task_queue,
                ) from None
            _dead_letter_or_requeue(envelope, f"{type(e).__name__}: {e}", attempt, tb)
            return None
    finally:
        from ..logs import _request_id

        _request_id.reset(token)


def _dead_letter_or_requeue(envelope, error, attempts, tb=None) -> None:
    try:
        dead_letter(envelope, error, attempts, tb)
        _finished(envelope)
    except Exception as e:
        # Never drop it: leave it to the broker (redelivered; SQS's redrive policy moves it).
        log.error("cannot dead-letter task %s (%r): the message is requeued", envelope, e)
        raise Reject(str(e), requeue=True) from None
