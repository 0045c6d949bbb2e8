"""The handler: enqueues one of the tasks of jobs.tasks."""

import datetime

from pymacaron.models import Job

from . import tasks


def create_job(new_job):
    if new_job.kind == "record":
        out = tasks.record(
            new_job.value,
            new_job.pet,
            pets=new_job.pets or [],
            by_name=new_job.by_name or {},
            when=datetime.datetime(2026, 11, 23, 12, 30, tzinfo=datetime.UTC),
        )
    elif new_job.kind == "slow":
        out = tasks.slow(new_job.value, new_job.seconds or 2.0)
    else:
        out = tasks.poison(new_job.value)
    return Job(
        task_id=out if isinstance(out, str) and out != "inline" else None,
        result="inline" if out == "inline" else "queued",
    ), 202
