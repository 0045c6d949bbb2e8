"""No acknowledged task lost when Redis crashes: an outbox beside the queue (docs/tasks.md).

kombu's Redis transport takes a message off the queue (BRPOP) and records it as unacked in
a second command: a Redis crash between the two loses a task whose enqueue was acknowledged
(measured: 1 of 740 over 10 kills). So before a task is published its envelope is also
written to a hash, ``<task queue>:outbox`` (with ``appendfsync always`` both writes are on
disk before the client hears back); the worker deletes the entry when the task is finished
(done or dead-lettered), and re-publishes any entry older than twice the visibility timeout
(kombu's own restore of unacked messages comes first). At-least-once, as before: a task that
runs longer than that may run twice. Redis brokers only: SQS hands a message over in one
step (its visibility timeout).
"""

from __future__ import annotations

import json
import logging
import threading
import time

log = logging.getLogger("pymacaron.tasks")

__all__ = ["Outbox", "start_reconciler"]


class Outbox:
    """The outbox hash of one service's task queue on its Redis broker."""

    def __init__(self, broker_url: str, key: str, redeliver_after: float):
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        # as publishing: a broker restarting for a second is waited for, not an error
        self.client = redis.Redis.from_url(
            broker_url,
            socket_connect_timeout=3,
            socket_timeout=10,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.2), 3),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        )
        self.key = key
        self.redeliver_after = redeliver_after

    def add(self, envelope: dict, delay: float = 0, queue: str | None = None) -> None:
        """Record a task about to be published (due ``delay`` seconds from now)."""
        entry = {"at": time.time() + (delay or 0), "envelope": envelope, "queue": queue}
        self.client.hset(self.key, envelope["id"], json.dumps(entry))

    def done(self, task_id: str | None) -> None:
        """Forget a finished task (best effort: a leftover entry only means a re-run)."""
        if not task_id:
            return
        try:
            self.client.hdel(self.key, task_id)
        except Exception as e:  # noqa: BLE001 (the broker is down: it will be re-run)
            log.warning("task outbox: cannot forget %s: %s", task_id, type(e).__name__)

    def due(self, now: float | None = None) -> list[dict]:
        """Entries whose task should have finished by now: never taken, or lost."""
        now = time.time() if now is None else now
        out = []
        for _, raw in self.client.hscan_iter(self.key, count=500):
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if entry.get("at", 0) + self.redeliver_after < now:
                out.append(entry)
        return out


def reconcile(outbox: Outbox, publish) -> int:
    """Re-publish the due entries once; how many."""
    count = 0
    for entry in outbox.due():
        envelope = entry["envelope"]
        # records it again (due one period on); a failed send leaves the entry for next round
        publish(envelope, queue=entry.get("queue"), again=True)
        log.warning(
            "task %s id=%s not finished %.0f s after it was due: published again",
            envelope.get("task"),
            envelope.get("id"),
            outbox.redeliver_after,
        )
        count += 1
    return count


def start_reconciler(outbox: Outbox, publish, interval: float) -> threading.Thread:
    """A daemon thread of the worker running :func:`reconcile` every ``interval`` s."""

    def loop():
        while True:
            time.sleep(interval)
            try:
                reconcile(outbox, publish)
            except Exception as e:  # noqa: BLE001 (the broker is down: next round)
                log.info("task outbox: not checked (%s)", type(e).__name__)

    thread = threading.Thread(target=loop, name="pym-task-outbox", daemon=True)
    thread.start()
    return thread
