"""Where tasks go: the broker, the queues and the worker's size, from pym-config and the environment.

Precedence, highest first: environment variables (what the CDK stage stack sets on the
Beanstalk environment), then ``stages.<PYM_ENV>`` overrides, then the top-level keys, then
the defaults below. No Celery import here: the dev server and the supervisor read this
without the ``async`` extra installed.

=============================  ==============================  ================================
pym-config key                 environment override            default
=============================  ==============================  ================================
``with_async``                 ``PYM_WITH_ASYNC`` (1/0)        false (tasks run inline)
``broker_url``                 ``PYM_BROKER_URL``              ``redis://127.0.0.1:6379/0``
``worker_concurrency``         ``PYM_WORKER_CONCURRENCY``      2
``task_queue``                 ``PYM_TASK_QUEUE_URL`` (SQS)    ``<name>-tasks``
``dead_letter_queue``          ``PYM_DEAD_LETTER_QUEUE_URL``   ``<name>-tasks-dlq``
``task_visibility_timeout``    ``PYM_TASK_VISIBILITY_TIMEOUT`` 900 seconds
=============================  ==============================  ================================

On SQS (``sqs://`` broker) the queue names are the last path segment of the queue URLs; the
worker uses only those two queues (kombu ``predefined_queues``), never creates or lists any,
and takes its credentials from the instance role (boto3's default chain).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlparse

from ..config import get_config, schema_default

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
DEFAULT_CONCURRENCY = 2
DEFAULT_VISIBILITY_TIMEOUT: int = schema_default("task_visibility_timeout")  # the schema's

__all__ = ["TaskSettings", "task_settings", "with_async_enabled", "redact_url"]


def _env_bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def with_async_enabled(conf=None, environ=None) -> bool:
    """True when tasks go to the queue (``with_async`` or ``PYM_WITH_ASYNC``)."""
    environ = os.environ if environ is None else environ
    if environ.get("PYM_WITH_ASYNC"):
        return _env_bool(environ["PYM_WITH_ASYNC"])
    if conf is None:
        conf = get_config()
    return bool(conf.get("with_async", False))


def redact_url(url: str) -> str:
    """The broker URL without its password, for logs."""
    parsed = urlparse(url)
    if parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return parsed._replace(netloc=netloc).geturl()
    return url


@dataclass
class TaskSettings:
    """Everything the publisher and the worker need to agree on."""

    service: str
    broker_url: str
    task_queue: str
    dead_letter_queue: str
    concurrency: int = DEFAULT_CONCURRENCY
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT
    queue_urls: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqs(self) -> bool:
        return self.broker_url.startswith("sqs://")

    @property
    def is_redis(self) -> bool:
        return self.broker_url.startswith(("redis://", "rediss://", "redis+socket://"))

    @property
    def region(self) -> str | None:
        """The AWS region of the SQS queues (from their URLs)."""
        for url in self.queue_urls.values():
            host = urlparse(url).hostname or ""
            parts = host.split(".")
            if len(parts) >= 3 and parts[0] == "sqs":
                return parts[1]
        return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")

    def describe(self) -> str:
        """One line for the logs: where tasks go."""
        return (
            f"broker {redact_url(self.broker_url)}, queue {self.task_queue!r}, "
            f"dead letters {self.dead_letter_queue!r}"
        )


def _queue_name_from_url(url: str) -> str:
    return urlparse(url).path.rstrip("/").rsplit("/", 1)[-1]


def task_settings(conf=None, environ=None) -> TaskSettings:
    """The task settings of this process (config + environment overrides)."""
    environ = os.environ if environ is None else environ
    if conf is None:
        conf = get_config()
    name = conf.get("name") or "pymacaron"
    broker = environ.get("PYM_BROKER_URL") or conf.get("broker_url") or DEFAULT_BROKER_URL
    queue = conf.get("task_queue") or f"{name}-tasks"
    dlq = conf.get("dead_letter_queue") or f"{name}-tasks-dlq"
    urls: dict[str, str] = {}
    if environ.get("PYM_TASK_QUEUE_URL"):
        queue = _queue_name_from_url(environ["PYM_TASK_QUEUE_URL"])
        urls[queue] = environ["PYM_TASK_QUEUE_URL"]
    if environ.get("PYM_DEAD_LETTER_QUEUE_URL"):
        dlq = _queue_name_from_url(environ["PYM_DEAD_LETTER_QUEUE_URL"])
        urls[dlq] = environ["PYM_DEAD_LETTER_QUEUE_URL"]
    concurrency = int(
        environ.get("PYM_WORKER_CONCURRENCY")
        or conf.get("worker_concurrency")
        or DEFAULT_CONCURRENCY
    )
    visibility = int(
        environ.get("PYM_TASK_VISIBILITY_TIMEOUT")
        or conf.get("task_visibility_timeout")
        or DEFAULT_VISIBILITY_TIMEOUT
    )
    return TaskSettings(
        service=name,
        broker_url=broker,
        task_queue=queue,
        dead_letter_queue=dlq,
        concurrency=max(1, concurrency),
        visibility_timeout=max(1, visibility),
        queue_urls=urls,
    )
