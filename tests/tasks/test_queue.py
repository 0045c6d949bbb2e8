"""Tasks on a real Redis with real Celery workers: enqueue, SIGKILL mid-task, poison."""

from __future__ import annotations

import time

import pytest
import requests

pytestmark = pytest.mark.slow

PET = {"name": "Rex", "born": "2023-04-01", "owner": {"name": "Ann"}}


def post_job(server, headers, **body):
    return requests.post(server.url + "/jobs", json=body, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def worker(start_worker):
    """The worker of the default queue, shared by the tests of this module."""
    return start_worker()


def test_request_enqueues_and_the_worker_runs_it(jobs_env, jobs_server, worker, auth_headers):
    r = post_job(
        jobs_server,
        {**auth_headers, "X-Request-ID": "req-enqueue-1"},
        kind="record",
        value="hello",
        pet=PET,
        pets=[PET, PET],
        by_name={"a": PET},
    )
    assert r.status_code == 202, r.text
    task_id = r.json()["task_id"]
    assert r.json()["result"] == "queued" and len(task_id) == 32
    [effect] = jobs_env.wait_for(lambda: jobs_env.effects("record", "hello"), what="the task")
    # It ran in the worker, not in the server, as the caller, under the request's id.
    assert effect["in_task"] is True
    assert effect["request_id"] == "req-enqueue-1"
    assert effect["user"] == "alice" and effect["token_sub"] == "alice"
    # Models came back as models, in lists and dicts too; the datetime as a datetime.
    assert effect["pet_class"] == "Pet" and effect["pet_is_model"] is True
    assert effect["owner_class"] == "Owner"
    assert effect["pet"] == PET
    assert effect["pets_classes"] == ["Pet", "Pet"]
    assert effect["by_name_classes"] == {"a": "Pet"}
    assert effect["when_is_datetime"] is True
    # Acknowledged: nothing left on the queue, nothing unacknowledged, no dead letter.
    assert jobs_env.redis.llen("jobs-tasks") == 0
    jobs_env.wait_for(lambda: jobs_env.redis.hlen("unacked") == 0, 5, "the ack")
    assert jobs_env.dead_letters() == []
    assert worker.proc.poll() is None


def test_task_of_a_sigkilled_worker_completes_on_restart(
    jobs_env, jobs_server, start_worker, auth_headers
):
    first = start_worker(queues="jobs-slow")
    r = post_job(jobs_server, auth_headers, kind="slow", value="survivor", seconds=1.5)
    assert r.status_code == 202, r.text
    jobs_env.wait_for(lambda: jobs_env.effects("slow-started", "survivor"), what="the start")
    first.kill()  # SIGKILL, mid-task: nothing gets a chance to acknowledge or requeue
    assert jobs_env.effects("slow-done", "survivor") == []
    assert jobs_env.redis.hlen("unacked") == 1  # the broker still holds it
    second = start_worker(queues="jobs-slow")
    done = jobs_env.wait_for(
        lambda: jobs_env.effects("slow-done", "survivor"),
        30,
        "the task to complete on the restarted worker",
    )
    starts = jobs_env.effects("slow-started", "survivor")
    assert len(starts) == 2 and starts[0]["pid"] != starts[1]["pid"]
    assert done[0]["pid"] == starts[1]["pid"]
    assert starts[0]["pid"] not in (second.pid,) and first.proc.returncode == -9
    jobs_env.wait_for(lambda: jobs_env.redis.hlen("unacked") == 0, 5, "the ack")
    assert jobs_env.dead_letters() == []


def test_poison_task_is_retried_then_dead_lettered_and_reported(
    jobs_env, jobs_server, worker, auth_headers
):
    r = post_job(
        jobs_server, {**auth_headers, "X-Request-ID": "req-poison"}, kind="poison", value="p1"
    )
    assert r.status_code == 202, r.text
    task_id = r.json()["task_id"]
    [letter] = jobs_env.wait_for(jobs_env.dead_letters, 30, "the dead letter")
    attempts = jobs_env.effects("poison-attempt", "p1")
    assert len(attempts) == 3  # the first try + retries=2
    # with backoff: 0.2 s then 0.4 s between the attempts
    gaps = [b["at"] - a["at"] for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps[0] >= 0.15 and gaps[1] >= 0.35, gaps
    assert letter["id"] == task_id and letter["task"] == "jobs.tasks:poison"
    assert letter["dead_letter"]["attempts"] == 3
    assert "poison task p1 always fails" in letter["dead_letter"]["error"]
    assert letter["args"] == ["p1"] and letter["user_id"] == "alice"
    # Reported through the service's error reporter, with the request id.
    [report] = jobs_env.wait_for(jobs_env.reports, 10, "the error report")
    assert report["title"].startswith("TASK_DEAD_LETTERED: jobs.tasks:poison")
    assert report["data"]["task_id"] == task_id
    assert report["data"]["request_id"] == "req-poison"
    assert "RuntimeError" in report["data"]["traceback"]
    # No more attempts after dead-lettering; the service and the worker keep serving.
    time.sleep(1.0)
    assert len(jobs_env.effects("poison-attempt", "p1")) == 3
    assert requests.get(jobs_server.url + "/ping", timeout=5).status_code == 200
    r = post_job(jobs_server, auth_headers, kind="record", value="after-poison", pet=PET)
    assert r.status_code == 202
    jobs_env.wait_for(lambda: jobs_env.effects("record", "after-poison"), what="a healthy task")
    assert jobs_env.redis.llen("jobs-tasks") == 0
