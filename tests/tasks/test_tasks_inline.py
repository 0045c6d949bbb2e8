"""pymacaron.tasks without a worker: arguments on the wire, settings, inline runs, identity."""

from __future__ import annotations

import datetime
import json
import os
import sys

import pytest

from .tasks_helpers import REPO, SERVICE, free_port


@pytest.fixture
def jobs_app(monkeypatch, tmp_path):
    """The jobs service in-process (its config says with_async: true)."""
    from pymacaron import config
    from pymacaron.apipool import ApiPool
    from pymacaron.tasks import engine

    monkeypatch.setenv("JOBS_OUT", str(tmp_path))
    monkeypatch.delenv("PYM_ENV", raising=False)
    monkeypatch.delenv("PYM_BROKER_URL", raising=False)
    monkeypatch.setenv("PYM_SERVICE_DIR", SERVICE)
    ApiPool.clear()
    config.set_config(None)
    monkeypatch.syspath_prepend(SERVICE)
    for name in [m for m in sys.modules if m == "jobs" or m.startswith("jobs.")] + ["server"]:
        sys.modules.pop(name, None)
    from flask import Flask

    from pymacaron import API

    app = Flask("jobs-inline")
    api = API(app)
    api.load_apis(os.path.join(SERVICE, "apis"))
    api.start(serve="jobs")
    engine.reset()
    yield app
    engine.reset()
    ApiPool.clear()
    config.set_config(None)


def _effects(tmp_path):
    path = tmp_path / "effects.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_models_dates_lists_and_dicts_round_trip(jobs_app):
    from pymacaron.models import Pet
    from pymacaron.tasks.serialize import decode, encode

    pet = Pet.from_json({"name": "Rex", "born": "2023-04-01", "owner": {"name": "Ann"}})
    value = {
        "pet": pet,
        "pets": [pet, pet],
        "by_name": {"rex": pet},
        "when": datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 11, 23),
        "tricky": {"__pym_model__": "not a model", "json": 1},
    }
    wire = json.loads(json.dumps(encode(value)))  # what really travels: JSON
    back = decode(wire)
    assert type(back["pet"]) is Pet and back["pet"] == pet
    assert type(back["pet"].owner).__name__ == "Owner"
    assert [type(p) for p in back["pets"]] == [Pet, Pet]
    assert type(back["by_name"]["rex"]) is Pet
    assert back["when"] == value["when"] and back["day"] == value["day"]
    assert back["tricky"] == {"__pym_model__": "not a model", "json": 1}


def test_unserialisable_arguments_fail_when_called(jobs_app):
    from pymacaron.tasks import TaskArgumentError
    from pymacaron.tasks.serialize import encode

    with pytest.raises(TaskArgumentError, match=r"argument\[0\]: a object cannot be sent"):
        encode([object()])
    with pytest.raises(TaskArgumentError, match="dict keys must be strings"):
        encode({1: "x"})


def test_outside_a_request_a_task_runs_inline(jobs_app, tmp_path):
    from jobs import tasks

    assert tasks.record("direct", None) == "inline"  # with_async is true in its config
    [effect] = _effects(tmp_path)
    assert effect["value"] == "direct" and effect["in_task"] is False


def test_with_async_false_runs_inline_in_the_request(jobs_app, tmp_path, monkeypatch, token_for):
    monkeypatch.setenv("PYM_WITH_ASYNC", "0")
    r = jobs_app.test_client().post(
        "/jobs",
        json={"kind": "record", "value": "in-request", "pet": {"name": "Tom"}},
        headers={"Authorization": f"Bearer {token_for('carol')}", "X-Request-ID": "rid-inline"},
    )
    assert r.status_code == 202, r.get_json()
    assert r.get_json() == {"result": "inline"}
    [effect] = _effects(tmp_path)
    assert effect["user"] == "carol" and effect["request_id"] == "rid-inline"
    assert effect["pet_class"] == "Pet"


def test_an_unreachable_broker_is_a_503_not_a_lost_task(jobs_app, monkeypatch, token_for, tmp_path):
    monkeypatch.setenv("PYM_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")  # nobody there
    r = jobs_app.test_client().post(
        "/jobs",
        json={"kind": "record", "value": "nowhere", "pet": {"name": "Tom"}},
        headers={"Authorization": f"Bearer {token_for('carol')}"},
    )
    assert r.status_code == 503
    assert r.get_json()["error"] == "TASK_QUEUE_UNAVAILABLE"
    assert _effects(tmp_path) == []  # neither queued nor silently run


def test_identity_travels_signed_and_is_exchanged_for_a_fresh_token(jobs_app, tmp_path, token_for):
    from jobs import tasks

    from pymacaron.auth import authenticate_request
    from pymacaron.tasks import make_envelope, run_envelope

    # The caller's token expires in 1 s; the task runs later with a token of its own.
    with jobs_app.test_request_context(
        "/jobs",
        headers={
            "Authorization": f"Bearer {token_for('dave', expire_in=1)}",
            "X-Request-ID": "rid-identity",
        },
    ):
        authenticate_request()
        from pymacaron.logs import _request_id, set_request_id

        token = set_request_id("rid-identity")
        try:
            envelope = json.loads(json.dumps(make_envelope(tasks.record, ["signed", None], {})))
        finally:
            _request_id.reset(token)  # no request id left for the worker's next test
    assert envelope["user_id"] == "dave" and "sig" in envelope
    assert "token" not in json.dumps(envelope).lower()  # the user's token never travels
    run_envelope(envelope)
    [effect] = _effects(tmp_path)
    assert effect["in_task"] is True and effect["user"] == "dave"
    assert effect["token_sub"] == "dave" and effect["request_id"] == "rid-identity"
    forged = {**envelope, "user_id": "mallory"}
    with pytest.raises(PermissionError, match="signature"):
        run_envelope(forged)
    assert len(_effects(tmp_path)) == 1


def test_only_asynctasks_can_be_run_from_a_message(jobs_app):
    from pymacaron.tasks import resolve

    assert resolve("jobs.tasks:record").name == "jobs.tasks:record"
    with pytest.raises(LookupError, match="not an @asynctask"):
        resolve("os:system")
    with pytest.raises(LookupError, match="malformed"):
        resolve("os.system")


def test_settings_environment_overrides_and_sqs(jobs_app):
    from pymacaron.config import get_config
    from pymacaron.tasks.engine import build_app
    from pymacaron.tasks.settings import task_settings

    conf = get_config()
    local = task_settings(conf, environ={})
    assert (local.broker_url, local.task_queue, local.dead_letter_queue) == (
        "redis://127.0.0.1:6379/0",
        "jobs-tasks",
        "jobs-tasks-dlq",
    )
    assert local.concurrency == 1 and local.visibility_timeout == 4
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-staging-tasks"
    sqs = task_settings(
        conf,
        environ={
            "PYM_BROKER_URL": "sqs://",
            "PYM_TASK_QUEUE_URL": url,
            "PYM_DEAD_LETTER_QUEUE_URL": url + "-dlq",
            "PYM_WORKER_CONCURRENCY": "4",
            "PYM_TASK_VISIBILITY_TIMEOUT": "600",
        },
    )
    assert sqs.is_sqs and sqs.region == "eu-west-1" and sqs.concurrency == 4
    assert (sqs.task_queue, sqs.dead_letter_queue) == (
        "jobs-staging-tasks",
        "jobs-staging-tasks-dlq",
    )
    app = build_app(sqs)
    options = app.conf.broker_transport_options
    assert options["predefined_queues"] == {
        "jobs-staging-tasks": {"url": url},
        "jobs-staging-tasks-dlq": {"url": url + "-dlq"},
    }
    assert options["region"] == "eu-west-1" and options["visibility_timeout"] == 600
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1 and not app.conf.task_create_missing_queues
    with pytest.raises(RuntimeError, match="PYM_TASK_QUEUE_URL"):
        build_app(task_settings(conf, environ={"PYM_BROKER_URL": "sqs://"}))


def test_backoff_doubles_and_is_capped():
    from pymacaron.tasks import AsyncTask

    task = AsyncTask(lambda: None, retries=10, backoff=2)
    assert [task.backoff_delay(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert task.backoff_delay(20) == 300
    with pytest.raises(ValueError):
        AsyncTask(lambda: None, retries=-1)


def test_pymacaron_async_compatibility_import():
    import pymacaron_async

    from pymacaron.tasks import asynctask

    assert pymacaron_async.asynctask is asynctask
    assert os.path.isdir(REPO)
