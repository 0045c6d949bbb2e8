"""Redis SIGKILLed 10 times during enqueue load (AOF, appendfsync always): every task whose
enqueue was acknowledged runs (issue 26, item 6: 1 of 994 was lost, taken off the queue by
kombu and never recorded as unacked). ``make chaos`` prints the same figures."""

from __future__ import annotations

import json
import shutil

import pytest

from .brokerkill import redis_kills

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile")]


@pytest.fixture(autouse=True)
def _redis_installed():
    """A missing redis-server is a setup failure (make test installs it), never a skip."""
    assert shutil.which("redis-server"), "redis-server is not installed: scripts/setup/system-tools"


def test_no_acknowledged_task_lost_over_10_redis_kills():
    result = redis_kills(kills=10, every=1.5, drain=45)
    tail = result.pop("worker_log_tail", "")
    print("broker kills:", json.dumps(result))
    assert result["acknowledged"] > 100, result
    assert result["lost"] == 0, f"{result}\nthe worker's log (its end):\n{tail}"


def test_a_message_lost_between_queue_and_worker_still_runs():
    # the window the kills hit by chance (about 1 in 1000 tasks), made certain
    from .brokerkill import handover_lost

    assert handover_lost(wait=30.0)


def test_a_failed_republish_keeps_the_task_in_the_outbox_with_an_injected_send_failure():
    # the reconciler re-publishes an acknowledged task the queue lost; when that send fails
    # (Redis restarting) the entry must stay for the next round: deleting it lost the task
    # (1 of 667 over 10 kills, with a stalled worker replaced, in a full suite run)
    from .brokerkill import republish_after_a_failed_send

    result = republish_after_a_failed_send()
    assert result["first"] == "TaskQueueUnavailableError", result
    assert result["kept"] == 1, result
    assert result["again"] == 1 and result["queued"] == 1, result
