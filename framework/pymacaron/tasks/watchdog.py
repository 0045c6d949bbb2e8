"""A stalled consumer is noticed and its worker replaced.

After quick broker restarts, or on a connection the network silently dropped, Celery's
consumer can stop taking messages without exiting (celery#9054, #10205): the worker looks
alive, the queue grows. A thread in the worker checks every ``interval`` seconds: messages
are waiting in one of its queues, the worker holds none (nothing reserved nor running) and
has received none since the last check. When that has held for ``stall_after`` seconds,
the worker exits with :data:`STALL_EXIT`; the image's supervisor (tasks/supervise.py)
starts a new one. Nothing is lost: the waiting messages are still on the queue (and the
outbox, tasks/outbox.py). Detection takes at most ``stall_after + interval`` seconds.

``PYM_WORKER_STALL_SECONDS`` (60; ``0`` turns the watchdog off) and
``PYM_WORKER_WATCHDOG_INTERVAL`` (5) change the two times.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from ..environ import env_number

log = logging.getLogger("pymacaron.tasks")

__all__ = ["STALL_EXIT", "ConsumerWatchdog", "ReplaceBudget", "install"]

STALL_EXIT = 75  # EX_TEMPFAIL: the supervisor restarts the worker for this code only


class ReplaceBudget:
    """How many stalled workers a supervisor replaces in place: ``limit`` per ``window``
    seconds (then the worker's exit stops the service, as any other exit does). The image's
    supervisor (tasks/supervise.py) and the dev server's worker (tasks/dev.py) share it."""

    def __init__(self, limit: int = 5, window: float = 600.0):
        self.limit = limit
        self.window = window
        self._times: list[float] = []

    def replace(self, returncode: int | None, now: float | None = None) -> bool:
        """True (and counted) when a worker that exited with ``returncode`` is replaced."""
        if returncode != STALL_EXIT:
            return False
        now = time.monotonic() if now is None else now
        self._times = [t for t in self._times if now - t < self.window]
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True


class ConsumerWatchdog:
    """Watches one worker's consumer; ``waiting(queues)`` counts messages on the broker."""

    def __init__(
        self,
        waiting,
        queues: list[str],
        stall_after: float = 60.0,
        interval: float = 5.0,
        held=lambda: 0,
        on_stall=None,
    ):
        self.waiting = waiting
        self.queues = queues
        self.stall_after = stall_after
        self.interval = interval
        self.held = held
        self.on_stall = on_stall or exit_stalled
        self.received = 0
        self._seen = 0
        self.since: float | None = None  # when the consumer was first seen idle over work

    def task_received(self, **_kw) -> None:
        self.received += 1

    def check(self, now: float) -> bool:
        """One look; True when the consumer has been stalled for ``stall_after`` s."""
        progressed = self.received != self._seen
        self._seen = self.received
        if progressed or self.held():
            self.since = None
            return False
        try:
            waiting = self.waiting(self.queues)
        except Exception:  # noqa: BLE001 (the broker is away: not the consumer's stall)
            self.since = None
            return False
        if not waiting:
            self.since = None
            return False
        if self.since is None:
            self.since = now
        return now - self.since >= self.stall_after

    def run(self) -> None:
        while True:
            time.sleep(self.interval)
            now = time.monotonic()
            if self.check(now):
                self.on_stall(self, now - (self.since or now))
                return

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="pym-consumer-watchdog", daemon=True)
        thread.start()
        return thread


def exit_stalled(watchdog: ConsumerWatchdog, seconds: float) -> None:
    """Leave now, with :data:`STALL_EXIT`: a warm shutdown may wait on the stalled consumer.
    The pool's processes hold no task (the watchdog fired with none held): they are ended."""
    log.error(
        "task worker: the consumer took no message for %.0f s while messages wait in %s: "
        "exiting (code %d) to be replaced",
        seconds,
        ",".join(watchdog.queues),
        STALL_EXIT,
    )
    for handler in logging.getLogger().handlers + log.handlers:
        try:
            handler.flush()
        except Exception:  # noqa: BLE001
            pass
    for pid in _children(os.getpid()):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(STALL_EXIT)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(p) for p in f.read().split())
    except OSError:
        pass
    return found


def _env_float(name: str, default: float) -> float:
    return env_number("pymacaron worker", name, default, float)


def broker_waiting(celery):
    """``waiting(queues)`` for ``celery``'s broker: messages ready in those queues."""

    def waiting(queues: list[str]) -> int:
        total = 0
        with celery.connection_for_read() as conn:
            channel = conn.default_channel
            for queue in queues:
                try:
                    total += channel.queue_declare(queue=queue, passive=True).message_count
                except Exception:  # noqa: BLE001 (a queue not declared yet holds nothing)
                    channel = conn.channel()
        return total

    return waiting


def install(celery, queues: list[str]) -> ConsumerWatchdog | None:
    """Arm the watchdog of this worker process: it starts when the worker is ready (None
    when turned off)."""
    stall_after = _env_float("PYM_WORKER_STALL_SECONDS", 60.0)
    if stall_after <= 0:
        return None
    from celery.signals import task_received, worker_ready
    from celery.worker import state

    watchdog = ConsumerWatchdog(
        broker_waiting(celery),
        queues,
        stall_after=stall_after,
        interval=_env_float("PYM_WORKER_WATCHDOG_INTERVAL", 5.0),
        held=lambda: len(state.reserved_requests) + len(state.active_requests),
    )
    task_received.connect(watchdog.task_received, weak=False)
    # from the moment the consumer is up: a slow start is not a stall
    worker_ready.connect(lambda **_kw: watchdog.start(), weak=False)
    return watchdog
