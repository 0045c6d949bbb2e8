"""``pym url STAGE`` / ``pym open STAGE``: the stage's URL and its docs page (``/docs``).

The URL is the stack's ``ServiceUrl`` output (``live_host``) when the stage has one, else
``EnvironmentUrl`` (the load balancer), else the environment's CNAME. ``open`` starts a
browser only when Python's :mod:`webbrowser` finds one (never on a headless machine).
"""

from __future__ import annotations

import webbrowser

from ..names import Target, outputs
from .aws import Aws
from .errors import NotFound
from .status import docs_url, environment, stage_url


def urls(aws: Aws, target: Target) -> tuple[str, str]:
    stack = aws.stack(target.stack_name)
    if stack is None:
        raise NotFound(
            f"stack {target.stack_name} does not exist: create it with "
            f"{aws.names.create_command(target)}"
        )
    out = outputs(stack)
    env = None if (out.get("ServiceUrl") or out.get("EnvironmentUrl")) else environment(aws, target)
    url = stage_url(out, env)
    if not url:
        raise NotFound(f"{target.environment_name} has no URL yet (is the environment launching?)")
    return url, docs_url(url)


def browser_available() -> bool:
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def open_in_browser(url: str, available=browser_available, opener=webbrowser.open) -> bool:
    """Open ``url`` when a browser exists; True when one was asked to."""
    if not available():
        return False
    return bool(opener(url))
