"""``pym logs STAGE [--since 10m] [--follow] [--request-id ID] [--all]``.

Beanstalk streams each instance's logs to ``/aws/elasticbeanstalk/<environment>/<file>``,
one stream per instance id. The default is the container's output
(``.../eb-docker/containers/eb-current-app/stdouterr.log``); ``--all`` adds every group
of the environment (nginx, eb-engine, environment-health...). Events from every stream and
group are merged in time order. ``--request-id`` keeps the lines carrying that id: the
runtime stamps ``[ID]`` on every line (pymacaron.logs.LOG_FORMAT) and gunicorn's access
line ends ``request_id=ID``; CloudWatch narrows with a quoted-term filter, the id is then
matched as a whole token here.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time

from pymacaron.exceptions import StartupError

from ..names import Target
from .aws import Aws
from .errors import NotFound, call, checked_option

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")  # pymacaron.logs._VALID_ID
_ID_CHARS = "A-Za-z0-9._:\\-"


def parse_since(value: str, now: float | None = None) -> int:
    """``10m``/``2h``/``1d``/``30s``/``1w`` ago, or an ISO time -> epoch milliseconds."""
    now = time.time() if now is None else now
    m = _DURATION.match(value.strip())
    if m:
        return int((now - int(m.group(1)) * _UNITS[m.group(2)]) * 1000)
    try:
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise StartupError(
            f"expected a duration like 10m, 2h, 1d or an ISO time like 2026-12-01T09:00Z, got {value!r}",
            location="option --since",
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def check_request_id(value: str | None) -> str | None:
    what = "a request id (letters, digits, '._:-', at most 128)"
    return checked_option(value, _REQUEST_ID, "--request-id", what)


def mentions(message: str, request_id: str) -> bool:
    """True when ``request_id`` appears in the line as a whole token."""
    pattern = rf"(?<![{_ID_CHARS}]){re.escape(request_id)}(?![{_ID_CHARS}])"
    return re.search(pattern, message) is not None


def log_groups(aws: Aws, target: Target, every: bool) -> list[str]:
    """The target's log groups that exist (the app group, or all of them)."""
    found = []
    client = aws.client("logs")
    token = None
    while True:
        kwargs = {"logGroupNamePrefix": target.log_group_prefix}
        if token:
            kwargs["nextToken"] = token
        page = call(client, "describe_log_groups", **kwargs)
        found += [g["logGroupName"] for g in page.get("logGroups") or []]
        token = page.get("nextToken")
        if not token:
            break
    groups = sorted(found) if every else [g for g in found if g == target.app_log_group]
    if not groups and aws.stack(target.stack_name) is None:
        raise NotFound(
            f"stack {target.stack_name} does not exist: no logs; create it with "
            f"{aws.names.create_command(target)}"
        )
    if not groups:
        raise NotFound(
            f"no log group {target.app_log_group if not every else target.log_group_prefix + '*'} "
            f"for {target.environment_name}: the stage stack turns streaming on, and a group "
            "appears once an instance has written to it (is the stage deployed? `pym status "
            f"{target.key}`)"
        )
    return groups


def fetch(aws: Aws, groups: list[str], start_ms: int, end_ms: int | None, request_id: str | None):
    """Every event of ``groups`` in [start, end], merged in time order."""
    client = aws.client("logs")
    events = []
    for group in groups:
        token = None
        while True:
            kwargs = {"logGroupName": group, "startTime": start_ms}
            if end_ms is not None:
                kwargs["endTime"] = end_ms
            if request_id:
                kwargs["filterPattern"] = f'"{request_id}"'
            if token:
                kwargs["nextToken"] = token
            page = call(client, "filter_log_events", **kwargs)
            for e in page.get("events") or []:
                if request_id and not mentions(e.get("message", ""), request_id):
                    continue
                events.append({**e, "logGroupName": group})
            token = page.get("nextToken")
            if not token:
                break
    events.sort(
        key=lambda e: (
            e["timestamp"],
            e.get("ingestionTime", 0),
            e["logGroupName"],
            e.get("logStreamName", ""),
            e.get("eventId", ""),
        )
    )
    return events


def format_event(e: dict, target: Target, show_group: bool) -> str:
    when = dt.datetime.fromtimestamp(e["timestamp"] / 1000, tz=dt.UTC)
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    source = e.get("logStreamName", "-")
    if show_group:
        source = e["logGroupName"][len(target.log_group_prefix) :] + " " + source
    return f"{stamp} {source} {e.get('message', '').rstrip()}"


def show(
    aws: Aws,
    target: Target,
    since_ms: int,
    *,
    follow: bool = False,
    request_id: str | None = None,
    every: bool = False,
    interval: float = 5.0,
    max_polls: int | None = None,
    out=None,
    sleep=time.sleep,
) -> int:
    """Print the events; with ``follow``, poll every ``interval`` s until Ctrl-C (or
    ``max_polls``). Returns the number of lines printed."""
    out = out or sys.stdout
    groups = log_groups(aws, target, every)
    printed = 0
    seen: set[str] = set()
    start = since_ms
    polls = 0
    try:
        while True:
            for e in fetch(aws, groups, start, None, request_id):
                key = f"{e['logGroupName']}/{e.get('eventId')}/{e.get('logStreamName')}/{e['timestamp']}"
                if key in seen:
                    continue
                seen.add(key)
                print(format_event(e, target, every), file=out, flush=True)
                printed += 1
                start = max(start, e["timestamp"])
            polls += 1
            if not follow or (max_polls is not None and polls >= max_polls):
                return printed
            # keep only the events at the boundary timestamp (the next query starts there)
            seen = {k for k in seen if int(k.rsplit("/", 1)[1]) >= start}
            sleep(interval)
    except KeyboardInterrupt:
        return printed
