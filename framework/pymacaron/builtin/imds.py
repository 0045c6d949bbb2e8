"""Whether this container can read its host's instance credentials (IMDSv2), for /version.

On Elastic Beanstalk the container is one network hop behind the instance: with IMDSv2
only, the token PUT needs a hop limit of 2 (the deploy kit's launch-template override). The
kit sets ``PYM_PROBE_INSTANCE_CREDENTIALS=1`` on the environments; /version then reports
``instance_credentials``: ``ok``, ``no-role`` or ``unreachable`` (never the role name or a
credential), and ``pym smoke`` checks it after the first deploy. Standard library only.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request

ENABLE = "PYM_PROBE_INSTANCE_CREDENTIALS"
ENDPOINT = "http://169.254.169.254"
TIMEOUT = 2.0
RETRY_AFTER = 60.0  # seconds before a failed probe is tried again
_cache: dict[str, tuple[float, str]] = {}


def enabled() -> bool:
    return os.environ.get(ENABLE, "") not in ("", "0", "false")


def _probe(endpoint: str) -> str:
    try:
        put = urllib.request.Request(
            f"{endpoint}/latest/api/token",
            method="PUT",
            headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"},
        )
        with urllib.request.urlopen(put, timeout=TIMEOUT) as r:
            token = r.read().decode()
        get = urllib.request.Request(
            f"{endpoint}/latest/meta-data/iam/security-credentials/",
            headers={"X-aws-ec2-metadata-token": token},
        )
        with urllib.request.urlopen(get, timeout=TIMEOUT) as r:
            return "ok" if r.read().strip() else "no-role"
    except urllib.error.HTTPError as e:
        return "no-role" if e.code == 404 else "unreachable"
    except (OSError, ValueError):
        return "unreachable"


def instance_credentials() -> str:
    """``ok``, ``no-role`` or ``unreachable``; a success is kept, a failure retried later."""
    endpoint = os.environ.get("PYM_IMDS_ENDPOINT", ENDPOINT).rstrip("/")
    now = time.monotonic()
    cached = _cache.get(endpoint)
    if cached and (cached[1] == "ok" or now - cached[0] < RETRY_AFTER):
        return cached[1]
    result = _probe(endpoint)
    _cache[endpoint] = (now, result)
    return result
