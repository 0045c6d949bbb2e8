"""Where the DynamoDB is and what its tables are called, from the environment.

- ``PYM_DYNAMODB_URL``: a local DynamoDB (dynalite, ``http://127.0.0.1:PORT``); unset on
  AWS, where boto3 uses the region's endpoint and the instance role.
- ``PYM_DYNAMODB_REGION`` (else ``AWS_REGION``/``AWS_DEFAULT_REGION``): the region.
- ``PYM_DYNAMODB_TABLE_<TABLE>``: the physical name of the logical table ``<table>``
  (``PYM_DYNAMODB_TABLE_PETS=petshop-live-pets``); the stage stacks set these.
- ``PYM_DYNAMODB_TABLE_PREFIX``: else the physical name is this prefix + the logical name.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse

__all__ = ["endpoint_url", "is_local_endpoint", "table_name", "table_env_name", "region"]

LOOPBACK = ("localhost", "::1")


def endpoint_url(environ=None) -> str | None:
    environ = os.environ if environ is None else environ
    return environ.get("PYM_DYNAMODB_URL") or None


def is_local_endpoint(url: str | None) -> bool:
    """A DynamoDB on this machine (the only kind pymacaron creates tables in)."""
    if not url:
        return False
    host = (urlparse(url).hostname or "").lower()
    return host in LOOPBACK or host.startswith("127.")


def region(environ=None) -> str | None:
    environ = os.environ if environ is None else environ
    return (
        environ.get("PYM_DYNAMODB_REGION")
        or environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
    )


def table_env_name(table: str) -> str:
    """``pets`` -> ``PYM_DYNAMODB_TABLE_PETS`` (non-alphanumerics become ``_``)."""
    return "PYM_DYNAMODB_TABLE_" + re.sub(r"[^A-Za-z0-9]", "_", table).upper()


def table_name(table: str, environ=None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(table_env_name(table)) or (
        environ.get("PYM_DYNAMODB_TABLE_PREFIX", "") + table
    )
